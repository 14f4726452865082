// ChemProt chemical-protein relation classification (SciBERT's release: 13 labels, entity markers
// << >> and [[ ]] in the text). Scores: micro-F1 over the relation classes (= accuracy here, since
// this release has no "no relation" class) and accuracy.
//   mtdnn train configs/bio/chemprot.jsonnet -s runs/chemprot && mtdnn evaluate runs/chemprot --split test
local bio = import 'bio.libsonnet';

function(
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  max_length=128,
  train_limit=null,
  seed=13,
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    chemprot: bio.chemprot(data_root + '/ChemProt', batch_size=batch_size, max_length=max_length, train_limit=train_limit),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',
  },
}
