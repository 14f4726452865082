// GLUE task definitions shared by experiments.
//   local glue = import 'glue.libsonnet';
//   tasks: { rte: glue.task('rte', 'path/to/RTE') }
// A task folder holds the official GLUE files train.tsv and dev.tsv (test.tsv where present).
local stsb_range = [0, 5];  // STS-B scores; BAM trains on them mapped to [0, 1]

{
  // The metrics reported for each GLUE task (the first one selects the best model).
  metrics:: {
    cola: [{ type: 'mcc' }, { type: 'accuracy' }],
    sst2: [{ type: 'accuracy' }],
    mrpc: [{ type: 'accuracy' }, { type: 'f1' }],
    qqp: [{ type: 'accuracy' }, { type: 'f1' }],
    stsb: [{ type: 'pearson' }, { type: 'spearman' }],
    mnli: [{ type: 'accuracy' }],
    qnli: [{ type: 'accuracy' }],
    rte: [{ type: 'accuracy' }],
    wnli: [{ type: 'accuracy' }],
  },

  // The folder of each task in the official GLUE download (glue_data/<folder>/train.tsv ...).
  folders:: {
    cola: 'CoLA', sst2: 'SST-2', mrpc: 'MRPC', qqp: 'QQP', stsb: 'STS-B',
    mnli: 'MNLI', qnli: 'QNLI', rte: 'RTE', wnli: 'WNLI',
  },

  // Head and loss per task: classification everywhere except the STS-B regression.
  heads:: { stsb: { type: 'regression', normalize: stsb_range } },
  losses:: { stsb: { type: 'mse', normalize: stsb_range } },

  // A GLUE task over the files in `dir`.
  // `test` names the test file inside `dir` (e.g. 'test.tsv'), for `mtdnn glue-submission`.
  task(name, dir, batch_size=32, max_length=128, train_limit=null, dev='dev.tsv', test=null):: {
    reader: { type: 'glue', task: name },
    head: std.get($.heads, name, { type: 'classification' }),
    loss: std.get($.losses, name, { type: 'cross_entropy' }),
    metrics: $.metrics[name],
    train: dir + '/train.tsv',
    dev: dir + '/' + dev,
    batch_size: batch_size,
    max_length: max_length,
    [if train_limit != null then 'train_limit']: train_limit,
    [if test != null then 'test']: dir + '/' + test,
  },

  // The same, for a task of the official GLUE download in `glue_dir`.
  official(name, glue_dir, batch_size=32, max_length=128, train_limit=null, dev='dev.tsv', test=null)::
    $.task(name, glue_dir + '/' + $.folders[name], batch_size, max_length, train_limit, dev, test),
}
