// Biomedical NER trained alone: one IOB2 corpus folder of ../shared/data.
//   mtdnn train configs/bio/ner.jsonnet -s runs/ncbi -A corpus=NCBI-disease-IOB
//   mtdnn evaluate runs/ncbi --split test
// `corpus` is NCBI-disease-IOB, BC5CDR-IOB or BC2GM-IOB, and the task is named after it (ncbi,
// bc5cdr, bc2gm); needs `pip install -e ./bio`. `objective` is a training objective, e.g.
// --tla-code "objective={type: 'smart'}" (docs/adversarial.md). `encoder` is a pretrained name or
// folder, or a whole encoder config, e.g. a BiLSTM over spaCy's words (needs `mtdnn[lstm]`):
//   --tla-code "encoder={type: 'lstm', tokenizer: 'words', hidden_size: 256}" --tla-code lr=1e-3
// `encoder_options` adds settings to a pretrained encoder (e.g. {num_layers: 3}).
// `precision` is trainer.precision ('auto' by default; the results drivers pass 'fp32').
local bio = import 'bio.libsonnet';

function(
  corpus='NCBI-disease-IOB',
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  max_length=128,
  train_limit=null,
  seed=13,
  objective=null,
  precision='auto',
  encoder_options={},
) {
  seed: seed,
  encoder: if std.isString(encoder) then { type: 'hf', model: encoder } + encoder_options else encoder,
  tasks: {
    [bio.task_name(corpus)]: bio.ner(
      data_root + '/' + corpus, batch_size=batch_size, max_length=max_length, train_limit=train_limit
    ),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',
    precision: precision,
    [if objective != null then 'objective']: objective,
  },
}
