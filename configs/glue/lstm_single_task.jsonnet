// One GLUE task trained alone with a BiLSTM encoder (no pretrained Transformer).
//   mtdnn train configs/glue/lstm_single_task.jsonnet -s runs/rte-lstm -A task=rte -A data_root=../shared/data
// `data_root/glue` holds the official GLUE folders. `tokenizer` is 'words' (spaCy's English rules and a vocabulary built from the training file;
// needs pip install 'mtdnn[lstm]') or a Hugging Face tokenizer (a registered name or a folder);
// `embeddings_from` (with a Hugging Face tokenizer only) starts the word vectors from that model's.
//   -A tokenizer=all_minilm_l6_v2 -A embeddings_from=all_minilm_l6_v2
// `objective` is a training objective, e.g. a distillation strategy (docs/distillation.md):
//   --tla-code "objective={type: 'hinton', targets: 'targets.safetensors'}"
// `precision` is trainer.precision ('auto' by default; the results drivers pass 'fp32').
local glue = import 'glue.libsonnet';

function(
  task='rte',
  data_root='../shared/data',
  tokenizer='words',
  embeddings_from=null,
  hidden_size=256,
  num_layers=2,
  pooling='max',
  epochs=5,
  lr=1e-3,
  batch_size=32,
  train_limit=null,
  dev='dev.tsv',
  init_from=null,
  seed=13,
  precision='auto',
  objective=null,
) {
  seed: seed,
  [if init_from != null then 'init_from']: init_from,
  encoder: {
    type: 'lstm',
    tokenizer: tokenizer,
    [if embeddings_from != null then 'embeddings_from']: embeddings_from,
    hidden_size: hidden_size,
    num_layers: num_layers,
    pooling: pooling,
    dropout: 0.2,
  },
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
