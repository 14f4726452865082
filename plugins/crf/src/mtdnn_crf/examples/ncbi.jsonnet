// NCBI-disease NER with the CRF head (the comparison in the README trains it against `tagging`).
// By default it reads the 40-sentence sample beside this file; for the real corpus:
//   mtdnn train ncbi.jsonnet -s runs/ncbi-crf -A data_root=../shared/data
// Needs mtdnn-bio (the iob reader): pip install 'mtdnn-crf[bio]'.
local bio = import 'bio.libsonnet';
local crf = import 'crf.libsonnet';
local parts = std.split(std.thisFile, '/');
local here = std.join('/', parts[:std.length(parts) - 1]);

function(
  data_root=here + '/sample',
  corpus='NCBI-disease-IOB',
  encoder='all_minilm_l6_v2',
  head='crf',
  epochs=2,
  seed=1,
  train_limit=null,
) {
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    [bio.task_name(corpus)]: bio.ner(data_root + '/' + corpus, train_limit=train_limit)
                             + (if head == 'crf' then crf.task() else {}),
  },
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: 5e-5 },
    validation_metric: 'mean',
  },
}
