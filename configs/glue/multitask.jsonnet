// Multi-task learning on GLUE tasks together (MT-DNN's first stage), from the official GLUE files.
//   mtdnn train configs/glue/multitask.jsonnet -s runs/mt -A data_root=../shared/data
//   ... -A tasks=rte,mrpc,stsb --tla-code 'limits={sst2: 2000}' -A sampler=temperature
//   ... --tla-code mlm_auxiliary=true   (adds masked-LM over the tasks' training text as an auxiliary task)
// `data_root/glue` holds the official GLUE folders; `tasks` is a comma-separated list; `limits` caps the training examples of some tasks
// (e.g. SST-2 for time); `sampler` names a sampler without options (shuffle_all is Algorithm 1); `objective` a
// training objective (e.g. --tla-code "objective={type: 'smart'}"; see docs/adversarial.md); `encoder_options`
// more settings of the hf encoder (e.g. --tla-code "encoder_options={num_layers: 3}").
// `precision` is trainer.precision ('auto' by default; the results drivers pass 'fp32').
local glue = import 'glue.libsonnet';
local mlm = import 'mlm.libsonnet';

function(
  tasks='rte,mrpc,stsb,cola,sst2,wnli',
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  limits={},
  sampler='shuffle_all',
  mlm_auxiliary=false,
  seed=13,
  objective=null,
  precision='auto',
  encoder_options={},
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder } + encoder_options,
  tasks: {
    [name]: glue.official(name, data_root + '/glue', batch_size=batch_size, train_limit=std.get(limits, name, null))
    for name in std.split(tasks, ',')
  } + (if mlm_auxiliary then { mlm: mlm.auxiliary(std.split(tasks, ','), batch_size=batch_size) } else {}),
  sampler: { type: sampler },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',  // mean over the tasks of each task's main metric
    precision: precision,
    [if objective != null then 'objective']: objective,
  },
}
