// Biomedical task definitions (mtdnn-bio):
//   local bio = import 'bio.libsonnet';
//   tasks: { ncbi: bio.ner('../shared/data/NCBI-disease-IOB') }
// Data layouts are those of ../shared/data (see its MANIFEST.md).
{
  // The task name of each NER corpus folder of ../shared/data.
  names:: { 'NCBI-disease-IOB': 'ncbi', 'BC5CDR-IOB': 'bc5cdr', 'BC2GM-IOB': 'bc2gm' },
  task_name(corpus):: std.get($.names, corpus, std.asciiLower(corpus)),

  // Named-entity recognition over a folder of IOB2 TSV files train.tsv / devel.tsv / test.tsv
  // (NCBI-disease, BC5CDR, BC2GM). The labels are every IOB2 label over the entity types of
  // the training file; seqeval scores entities (default mode, as conlleval does).
  ner(dir, scheme='IOB2', batch_size=32, max_length=128, train_limit=null):: {
    reader: { type: 'iob', scheme: scheme, labels_from: dir + '/train.tsv' },
    head: { type: 'tagging' },
    loss: { type: 'cross_entropy' },
    metrics: [{ type: 'seqeval' }],
    train: dir + '/train.tsv',
    dev: dir + '/devel.tsv',
    test: dir + '/test.tsv',
    batch_size: batch_size,
    max_length: max_length,
    [if train_limit != null then 'train_limit']: train_limit,
  },

  // ChemProt relation classification (SciBERT's jsonl: train.txt / dev.txt / test.txt; the two
  // entities are marked << >> and [[ ]] in the text). This release has no negative class, so the
  // micro-F1 over the relation classes equals accuracy.
  chemprot(dir, batch_size=32, max_length=128, train_limit=null):: {
    reader: { type: 'chemprot' },
    head: { type: 'classification' },
    loss: { type: 'cross_entropy' },
    metrics: [{ type: 'relation_f1' }, { type: 'accuracy' }],
    train: dir + '/train.txt',
    dev: dir + '/dev.txt',
    test: dir + '/test.txt',
    batch_size: batch_size,
    max_length: max_length,
    [if train_limit != null then 'train_limit']: train_limit,
  },

  // One fold of GAD or EU-ADR (BioBERT's 10-fold release: <dir>/<fold>/train.tsv and test.tsv;
  // there is no dev file, so the fold's test file is scored after every epoch, as BioBERT does).
  // Precision, recall and F1 of the positive class ('1').
  relation_fold(dir, fold, batch_size=32, max_length=128):: {
    reader: { type: 'bio_relation' },
    head: { type: 'classification' },
    loss: { type: 'cross_entropy' },
    metrics: [{ type: 'relation_f1', negative: ['0'] }, { type: 'accuracy' }],
    train: dir + '/' + fold + '/train.tsv',
    dev: dir + '/' + fold + '/test.tsv',
    batch_size: batch_size,
    max_length: max_length,
  },
}
