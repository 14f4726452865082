// GLUE tasks trained with an adversarial objective (the MT-DNN toolkit's "+ AdvTrain"); docs/adversarial.md.
//   mtdnn train configs/glue/adversarial.jsonnet -s runs/smart -A data_root=../shared/data
//   ... -A method=smart_proximal      (SMART with its Bregman proximal term)
//   ... -A tasks=rte                  (one task: single-task training)
// `method` picks a preset below; anything else goes through `objective` as a whole object, e.g.
//   --tla-code "objective={type: 'smart', epsilon: 1e-3, steps: 2}". The other arguments are those of
// multitask.jsonnet (tasks, limits, epochs, ...); the defaults are the tasks of docs/results.md.
local multitask = import 'multitask.jsonnet';

local presets = {
  // SMART with the paper's values (epsilon, sigma 1e-5, step 1e-3, one step, inf norm per token),
  // in units of the word embeddings' RMS
  smart: { type: 'smart' },
  // the same plus the momentum Bregman proximal point (mu 1, EMA beta 0.99 then 0.999)
  smart_proximal: { type: 'proximal', mu: 1.0, inner: { type: 'smart' } },
  // the update of the original MT-DNN toolkit (re-normalised, not projected) with its defaults
  smart_original: { type: 'smart', update: 'renormalize', epsilon: 1e-6, sigma: 1e-5, step_size: 1e-5 },
  freelb: { type: 'freelb' },
  fgm: { type: 'fgm' },
  pgd: { type: 'pgd' },
};

function(
  tasks='rte,mrpc,sst2',
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  method='smart',
  objective=null,
  epochs=2,
  lr=5e-5,
  batch_size=32,
  limits={ sst2: 3000 },
  seed=13,
)
  assert objective != null || std.objectHas(presets, method) :
         'method must be one of %s, got %s' % [std.objectFields(presets), method];
  multitask(
    tasks=tasks,
    data_root=data_root,
    encoder=encoder,
    epochs=epochs,
    lr=lr,
    batch_size=batch_size,
    limits=limits,
    seed=seed,
    objective=if objective != null then objective else presets[method],
  )
