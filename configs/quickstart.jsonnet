// Quickstart: multi-task training of SST-2, MRPC and RTE (MT-DNN's Algorithm 1) on the small
// real GLUE samples shipped in data/quickstart, with the pretrained all-MiniLM-L6-v2 encoder.
//   mtdnn train configs/quickstart.jsonnet -s runs/quickstart
//   mtdnn train configs/quickstart.jsonnet -s runs/q2 --tla-code epochs=1 -A data_root=/my/samples
// `data_root` holds the sst2, mrpc and rte folders (train.tsv, dev.tsv).
local glue = import 'glue.libsonnet';

function(data_root='data/quickstart', encoder='all_minilm_l6_v2', epochs=5, lr=5e-5, seed=13) {
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    sst2: glue.task('sst2', data_root + '/sst2'),
    mrpc: glue.task('mrpc', data_root + '/mrpc'),
    rte: glue.task('rte', data_root + '/rte'),
  },
  sampler: { type: 'shuffle_all' },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    scheduler: { type: 'linear', warmup: 0.1 },
    validation_metric: 'mean',
  },
}
