// mtdnn-crf: a CRF tagging head and its loss, to put into a sequence-labelling task.
//   local crf = import 'crf.libsonnet';
//   tasks: { ncbi: bio.ner(...) + crf.task() }
{
  // the head and loss of a task: `+ crf.task()` turns a `tagging` task into a CRF one
  task(dropout=0.1, constrain=true):: {
    head: { type: 'crf', dropout: dropout, constrain: constrain },
    loss: { type: 'crf' },
  },
}
