// An example: a sentiment task on the ten-line sample beside this file, with the `focal` loss.
//   mtdnn train example.jsonnet -s runs/example --dry-run
local plugin = import 'focal.libsonnet';
local parts = std.split(std.thisFile, '/');
local here = std.join('/', parts[:std.length(parts) - 1]);

function(data=here + '/data.csv', encoder='all_minilm_l6_v2', epochs=3) {
  encoder: { type: 'hf', model: encoder },
  tasks: {
    sentiment: {
      reader: { type: 'columns', text: 'text', label: 'label' },
      train: data,
      dev: data,
      head: { type: 'classification' },
      loss: plugin.loss(gamma=2.0),
      metrics: [{ type: 'accuracy' }],
      batch_size: 4,
    },
  },
  trainer: { epochs: epochs, optimizer: { type: 'adamw', lr: 5e-5 } },
}
