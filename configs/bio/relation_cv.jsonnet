// Gene-disease relation classification with 10-fold cross-validation (GAD or EU-ADR, BioBERT's folds).
//   mtdnn cross-validate configs/bio/relation_cv.jsonnet -s runs/gad --folds 1-10 -A corpus=GAD
// `mtdnn cross-validate` sets `fold` to each fold's name; each fold trains on <corpus>/<fold>/train.tsv
// and is scored on that fold's test.tsv (precision, recall and F1 of the positive class).
// `corpus` is GAD or euadr; needs `pip install -e ./bio`.
local bio = import 'bio.libsonnet';

function(
  fold='1',
  corpus='GAD',
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  max_length=128,
  seed=13,
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    [std.asciiLower(corpus)]: bio.relation_fold(data_root + '/' + corpus, fold, batch_size=batch_size, max_length=max_length),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',
  },
}
