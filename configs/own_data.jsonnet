// Your own data: CSV, TSV or JSONL files read by the `columns` reader, with the columns you name.
//   mtdnn train configs/own_data.jsonnet -s runs/own
//   mtdnn predict runs/own data/own_data/reviews/dev.csv --task reviews --input-format task
// The shipped samples (data/own_data/README.md): reviews/*.csv (columns id, review, sentiment:
// negative/positive) and entailment/*.jsonl ({"premise", "hypothesis", "label"}). For your files,
// change the paths and the column names; the labels are collected from the training file
// (sorted) unless you list them (`labels`). Every reader option: docs/own_data.md.
function(data_root='data/own_data', encoder='all_minilm_l6_v2', epochs=3, lr=5e-5, seed=13) {
  local classification = {
    head: { type: 'classification' },
    loss: { type: 'cross_entropy' },
    metrics: [{ type: 'accuracy' }, { type: 'f1', average: 'macro' }],
  },
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    reviews: classification {
      reader: { type: 'columns', text: 'review', label: 'sentiment', id: 'id' },
      train: data_root + '/reviews/train.csv',
      dev: data_root + '/reviews/dev.csv',
    },
    entailment: classification {
      reader: { type: 'columns', text: 'premise', text_pair: 'hypothesis', label: 'label' },
      train: data_root + '/entailment/train.jsonl',
      dev: data_root + '/entailment/dev.jsonl',
    },
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    scheduler: { type: 'linear', warmup: 0.1 },
    validation_metric: 'mean',
  },
}
