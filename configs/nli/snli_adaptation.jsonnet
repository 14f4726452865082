// Domain adaptation (MT-DNN paper, section 5.2): train SNLI on a share of its training data,
// starting from the plain encoder or from a multi-task run's encoder (`init_from`).
//   mtdnn train configs/nli/snli_adaptation.jsonnet -s runs/snli-10pc -A data_root=../shared/data \
//     --tla-code fraction=0.1 [-A init_from=runs/glue/multitask-seed1]
// `train_file`/`dev_file` name files inside `data_root/SNLI`. The defaults fit the 1,276-pair and
// 1,288-pair heads of the official test and dev files in ../shared/data/SNLI: the test head is the
// training pool.
local nli = import 'nli.libsonnet';

function(
  data_root='../shared/data',
  train_file='snli_1.0_test.head.jsonl',
  dev_file='snli_1.0_dev.head.jsonl',
  fraction=1.0,
  encoder='all_minilm_l6_v2',
  epochs=4,
  lr=5e-5,
  batch_size=16,
  init_from=null,
  seed=13,
) {
  local snli = data_root + '/SNLI',
  seed: seed,
  [if init_from != null then 'init_from']: init_from,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    snli: nli.task({ type: 'snli' }, snli + '/' + train_file, snli + '/' + dev_file, batch_size) {
      // the same seed draws the same share, and a smaller share lies inside a larger one
      [if fraction < 1 then 'train_reader']: {
        type: 'subsample', reader: { type: 'snli' }, fraction: fraction, seed: seed,
      },
    },
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'snli.accuracy',
  },
}
