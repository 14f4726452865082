// Biomedical multi-task learning: NER corpora and ChemProt relation classification trained together
// on one shared encoder (Algorithm 1: the shuffled mini-batches of all tasks).
//   mtdnn train configs/bio/multitask.jsonnet -s runs/bio-mt -A ner=NCBI-disease-IOB,BC5CDR-IOB
//   mtdnn evaluate runs/bio-mt --split test
// `ner` lists NER corpus folders of ../shared/data (tasks ncbi, bc5cdr, bc2gm); `chemprot` adds the
// ChemProt task. Needs `pip install -e ./bio`.
local bio = import 'bio.libsonnet';

function(
  ner='NCBI-disease-IOB,BC5CDR-IOB',
  chemprot=true,
  data_root='../shared/data',
  encoder='all_minilm_l6_v2',
  epochs=3,
  lr=5e-5,
  batch_size=32,
  max_length=128,
  seed=13,
) {
  local corpora = [c for c in std.split(ner, ',') if c != ''],
  seed: seed,
  encoder: { type: 'hf', model: encoder },
  tasks: {
    [bio.task_name(corpus)]: bio.ner(data_root + '/' + corpus, batch_size=batch_size, max_length=max_length)
    for corpus in corpora
  } + (
    if chemprot then { chemprot: bio.chemprot(data_root + '/ChemProt', batch_size=batch_size, max_length=max_length) }
    else {}
  ),
  trainer: {
    epochs: epochs,
    optimizer: { type: 'adamw', lr: lr },
    validation_metric: 'mean',
  },
}
