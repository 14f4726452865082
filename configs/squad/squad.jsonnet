// Extractive question answering on SQuAD-format files (v1.1 or v2.0), with the `span` head.
//   mtdnn train configs/squad/squad.jsonnet -s runs/squad -A data_root=/data/squad \
//     -A train=train-v2.0.json -A dev=dev-v2.0.json
// `train` and `dev` are files inside `data_root` (or absolute paths).
// `version` '2.0' lets the head answer "no answer" and reports the HasAns/NoAns split; use '1.1'
// for data where every question is answerable. The shared data holds only a 5-article SQuAD 2.0
// dev subset (SQuAD-v2.0-dev-subset/dev-v2.0.first5articles.json): split it by article to
// experiment (tests/heads/test_span.py does).
local paths = import 'paths.libsonnet';

function(
  train,
  dev,
  data_root='../shared/data',
  version='2.0',
  encoder='all_minilm_l6_v2',
  epochs=2,
  lr=5e-5,
  batch_size=16,
  max_length=384,
  doc_stride=128,
  seed=13,
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    squad: {
      reader: { type: 'squad' },
      head: { type: 'span', doc_stride: doc_stride, allow_null: version == '2.0' },
      loss: { type: 'span_ce' },
      metrics: [{ type: 'squad', version: version }],
      train: paths.under(data_root, train),
      dev: paths.under(data_root, dev),
      batch_size: batch_size,
      max_length: max_length,
    },
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',
  },
}
