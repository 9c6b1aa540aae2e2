# Times Zennit 0.5.1 on the benchmark workload, for `lrp-lens bench --zennit` (the ratio in the same run):
#   PYTHONPATH=../shared/zennit/src /usr/bin/python3 scripts/zennit-bench.py THREADS BENCH_DIR
# Prints one JSON line: engine, samplesPerSecond, cpuMsPerSample, singleSampleMs. Never run by the tests.
# Zennit 0.5.1 EpsilonGammaBox on sst_cnn (weights from ../shared/bench/sst_cnn.h5), batch 64, target 0.
import json, sys, time, statistics, h5py, numpy as np, torch
from torch import nn
from zennit.composites import EpsilonGammaBox
from zennit.attribution import Gradient
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
BENCH = sys.argv[2] if len(sys.argv) > 2 else '../shared/bench'
f = h5py.File(f'{BENCH}/sst_cnn.h5', 'r')['model_weights']
def w(l): return f[l][l]['kernel:0'][()], f[l][l]['bias:0'][()]
class ToNCHW(nn.Module):
    def forward(self, x): return x.permute(0, 3, 1, 2)
class FlattenNHWC(nn.Module):
    def forward(self, x): return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
convs = [nn.Conv2d(1, 16, 5, padding=2), nn.Conv2d(16, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)]
for c, l in zip(convs, ['conv2d', 'conv2d_1', 'conv2d_2']):
    k, b = w(l); c.weight.data = torch.tensor(k.transpose(3, 2, 0, 1).copy()); c.bias.data = torch.tensor(b)
d1, d2 = nn.Linear(15488, 64), nn.Linear(64, 2)
for d, l in [(d1, 'dense'), (d2, 'dense_1')]:
    k, b = w(l); d.weight.data = torch.tensor(k.T.copy()); d.bias.data = torch.tensor(b)
model = nn.Sequential(ToNCHW(), convs[0], nn.ReLU(), nn.MaxPool2d(2), convs[1], nn.ReLU(), nn.MaxPool2d(2), convs[2], nn.ReLU(), nn.MaxPool2d(2), FlattenNHWC(), d1, nn.ReLU(), d2).eval()
x = torch.tensor(np.load(f'{BENCH}/batch64_nhwc.npy'))
logits = np.load(f'{BENCH}/logits.npy')
with torch.no_grad(): assert np.abs(model(x).numpy() - logits).max() < 1e-3
comp = EpsilonGammaBox(low=-5., high=5., epsilon=1e-6, gamma=0.25)
def explain(xb):
    seed = torch.zeros(xb.shape[0], 2); seed[:, 0] = 1
    with Gradient(model=model, composite=comp) as attributor:
        _, rel = attributor(xb.clone().requires_grad_(True), seed)
    return rel
explain(x)
ms, cpu = [], []
for _ in range(5):
    c0, t0 = time.process_time(), time.perf_counter(); explain(x); ms.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
explain(x[:1]); single = []
for _ in range(7):
    t0 = time.perf_counter(); explain(x[:1]); single.append(time.perf_counter() - t0)
print(json.dumps({'engine': f'zennit 0.5.1 / torch {torch.__version__} ({torch.get_num_threads()} threads)', 'samplesPerSecond': 64 / statistics.median(ms), 'cpuMsPerSample': 1000 * statistics.median(cpu) / 64, 'singleSampleMs': 1000 * statistics.median(single)}))
