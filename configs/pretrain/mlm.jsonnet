// Masked-LM pre-training (BERT's objective) on raw text files, one document or sentence per line.
//   mtdnn pretrain configs/pretrain/mlm.jsonnet -s runs/mlm -A encoder=PATH_OR_NAME [--tla-code random_init=true]
// `encoder` is a Hugging Face folder or a registered name; with `random_init` only its config and
// tokenizer are used (pre-training from scratch), else its weights are trained further. The encoder
// ends up in RUN_DIR/model/encoder, ready for `encoder: {type: 'hf', model: 'RUN_DIR/model/encoder'}`.
// `train` and `dev` are files inside `data_root` (or absolute paths); the defaults read the
// quickstart sentences shipped in data/quickstart/text.
local mlm = import 'mlm.libsonnet';
local paths = import 'paths.libsonnet';

function(
  data_root='data/quickstart',
  train='text/train.txt',
  dev='text/dev.txt',
  encoder='all_minilm_l6_v2',
  random_init=false,
  epochs=10,
  lr=5e-4,
  batch_size=32,
  max_length=128,
  mask_probability=0.15,
  seed=13,
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder, random_init: random_init },
  tasks: {
    mlm: mlm.text(paths.under(data_root, train), paths.under(data_root, dev), batch_size=batch_size, max_length=max_length, mask_probability=mask_probability),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mlm.accuracy',
  },
}
