// The models and batches of the data-parallel test, shared by its worker processes (distributed-worker.js)
// and the single-process reference in test/distributed.test.ts. No BatchNorm: with it, each process's half
// batch would be normalised with its own statistics and the updates would differ from one process's.
'use strict';

const models = {
  // Built-in layers only: the whole step is one native call.
  native(torch) {
    const { nn } = torch;
    return new nn.Sequential([new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 8 * 8, 5)]);
  },
  // A forward written in JavaScript: the forward runs in JS, backward and update in one native call.
  js(torch) {
    const { nn } = torch;
    class Net extends nn.Module {
      constructor() {
        super();
        this.conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
        this.fc = new nn.Linear(4 * 8 * 8, 5);
      }
      forward(x) {
        return this.fc.forward(this.conv.forward(x).tanh().flatten(1));
      }
    }
    return new Net();
  },
};

// Batch k: 8 images [3, 8, 8] and labels, from a formula (no random generator involved).
function batch(torch, k) {
  const n = 8;
  const data = new Float32Array(n * 3 * 64);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * i + 1.3 * k) * Math.cos(0.011 * i * (k + 1));
  const labels = Array.from({ length: n }, (_, i) => (i * 3 + k) % 5);
  return [torch.tensor(data).reshape([n, 3, 8, 8]), torch.tensor(labels, { dtype: 'int64' })];
}

module.exports = { models, batch };
