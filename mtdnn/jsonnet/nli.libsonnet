// NLI task definitions (SNLI, SciTail, ANLI) shared by experiments.
//   local nli = import 'nli.libsonnet';
//   tasks: { snli: nli.snli('path/to/snli_1.0'), scitail: nli.scitail('path/to/SciTailV1.1/tsv_format') }
// Each folder holds the files of the official release, named as released.
{
  // A classification task over `train` and `dev`, read with `reader`, scored by accuracy.
  task(reader, train, dev, batch_size=32, max_length=128, train_limit=null):: {
    reader: reader,
    head: { type: 'classification' },
    loss: { type: 'cross_entropy' },
    metrics: [{ type: 'accuracy' }],
    train: train,
    dev: dev,
    batch_size: batch_size,
    max_length: max_length,
    [if train_limit != null then 'train_limit']: train_limit,
  },

  // SNLI 1.0 from the folder holding snli_1.0_{train,dev}.jsonl (three labels).
  snli(dir, batch_size=32, max_length=128, train_limit=null)::
    $.task({ type: 'snli' }, dir + '/snli_1.0_train.jsonl', dir + '/snli_1.0_dev.jsonl',
           batch_size, max_length, train_limit),

  // SciTail v1.1 from its tsv_format folder (scitail_1.0_{train,dev}.tsv; two labels).
  scitail(dir, batch_size=32, max_length=128, train_limit=null)::
    $.task({ type: 'scitail' }, dir + '/scitail_1.0_train.tsv', dir + '/scitail_1.0_dev.tsv',
           batch_size, max_length, train_limit),

  // One ANLI round ('R1', 'R2' or 'R3') from the anli_v1.0 folder (three labels).
  anli(dir, round='R1', batch_size=32, max_length=128, train_limit=null)::
    $.task({ type: 'anli' }, dir + '/' + round + '/train.jsonl', dir + '/' + round + '/dev.jsonl',
           batch_size, max_length, train_limit),
}
