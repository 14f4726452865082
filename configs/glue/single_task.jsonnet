// One GLUE task trained alone (the single-task baseline of the MT-DNN paper).
//   mtdnn train configs/glue/single_task.jsonnet -s runs/sst2 -A task=sst2 -A data_root=../shared/data
// `data_root/glue` holds the official GLUE folders (SST-2, RTE, ...); `task` is the lower-case task name;
// `dev` names the dev file inside the task's folder (MNLI: dev_matched.tsv or dev_mismatched.tsv);
// `init_from` a multi-task run to fine-tune from (MT-DNN's second stage); `objective` a training objective
// (e.g. --tla-code "objective={type: 'smart'}"; see docs/adversarial.md); `encoder_options` more settings of the
// hf encoder (e.g. --tla-code "encoder_options={num_layers: 3}" for a 3-layer MiniLM student).
// `precision` is trainer.precision ('auto' by default; the results drivers pass 'fp32').
local glue = import 'glue.libsonnet';

function(
  task='sst2',
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  pooling='cls',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  train_limit=null,
  dev='dev.tsv',
  init_from=null,
  seed=13,
  precision='auto',
  objective=null,
  encoder_options={},
) {
  seed: seed,
  [if init_from != null then 'init_from']: init_from,
  encoder: { type: 'hf', model: encoder, pooling: pooling } + encoder_options,
  tasks: {
    [task]: glue.official(task, data_root + '/glue', batch_size=batch_size, train_limit=train_limit, dev=dev),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',  // with one task: that task's main metric
    precision: precision,
    [if objective != null then 'objective']: objective,
  },
}
