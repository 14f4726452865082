// Masked-LM tasks (BERT's objective, the `mlm` head and loss).
//   local mlm = import 'mlm.libsonnet';
//   tasks: { ..., mlm: mlm.auxiliary(['rte', 'mrpc']) }         // over the other tasks' training text
//   tasks: { mlm: mlm.text('corpus/train.txt', 'corpus/dev.txt') }  // over raw text, one line each
{
  local base(batch_size, max_length, mask_probability, loss_weight) = {
    reader: { type: 'text' },  // reads raw text files (train and dev of `text`)
    head: { type: 'mlm', mask_probability: mask_probability },
    loss: { type: 'mlm' },
    metrics: [{ type: 'masked_lm' }],  // accuracy (main), loss and perplexity of the masked tokens
    batch_size: batch_size,
    max_length: max_length,
    loss_weight: loss_weight,
  },

  // An auxiliary task over the texts of the training files of the named tasks (no dev file, so it
  // is trained on but never evaluated, and takes no part in model selection).
  auxiliary(texts_from, batch_size=32, max_length=128, mask_probability=0.15, loss_weight=1.0)::
    base(batch_size, max_length, mask_probability, loss_weight) { texts_from: texts_from },

  // A task over raw text files, one document or sentence per line; `dev` is scored each epoch.
  text(train, dev=null, batch_size=32, max_length=128, mask_probability=0.15, loss_weight=1.0)::
    base(batch_size, max_length, mask_probability, loss_weight) {
      train: train,
      [if dev != null then 'dev']: dev,
    },
}
