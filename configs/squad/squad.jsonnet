// Extractive question answering on SQuAD-format files (v1.1 or v2.0), with the `span` head.
//   mtdnn train configs/squad/squad.jsonnet -s runs/squad -A train=train-v2.0.json -A dev=dev-v2.0.json
// `version` '2.0' lets the head answer "no answer" and reports the HasAns/NoAns split; use '1.1'
// for data where every question is answerable. The shared data holds only a 5-article SQuAD 2.0
// dev subset: split it by article to experiment (tests/heads/test_span.py does).
function(
  train,
  dev,
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
      train: train,
      dev: dev,
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
