"""Re-run of the multi-power-law reference fitting procedure (Luo et al. 2025) in SciPy + PyTorch,
written from its documented steps and hyperparameters, as an independent check of Anneal's
FitMethod.EarlyStoppedAdamW. Not a dependency of Anneal. Usage (via bench/mpl_reference_fit.sh):
    python3 mpl_reference_fit.py DATA_DIR LR_DIR
DATA_DIR holds cosine_24000.csv, constant_24000.csv, wsdcon_9.csv (step,lr,loss); LR_DIR holds their
per-step learning rates (step,lr) from 'anneal schedule sample'. Prints the pre-fit and the fit."""
import itertools, sys, time
import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import huber

data_dir, lr_dir = sys.argv[1], sys.argv[2]
names = ["cosine_24000", "constant_24000", "wsdcon_9"]
runs = []
for n in names:
    d = np.genfromtxt(f"{data_dir}/{n}.csv", delimiter=",", names=True)
    lr = np.genfromtxt(f"{lr_dir}/{n}.csv", delimiter=",", names=True)["lr"]
    runs.append((d["step"].astype(int), d["loss"], lr))
t0 = time.time()

# Pre-fit: L0 + A*S1^-alpha - B*(peak - lr) on the 5 x 3 x 3 x 3 grid, L-BFGS-B from each point, best kept.
low = min(r[1].min() for r in runs)
lx = np.concatenate([np.log(np.cumsum(lr)[st]) for st, _, lr in runs])
ly = np.concatenate([np.log(loss - low + 0.01) for _, loss, _ in runs])
slope, icept = np.polyfit(lx, ly, 1)
def prefit_objective(p):
    l0, a, alpha, b = p
    return sum(huber(1e-3, np.log(loss) - np.log(l0 + a * np.cumsum(lr)[st] ** -alpha - b * (3e-4 - lr[st]))).sum() for st, loss, lr in runs)
grid = itertools.product(np.linspace(low - .2, low + .2, 5), np.linspace(np.exp(icept) - .1, np.exp(icept) + .1, 3),
                         np.linspace(-slope - .1, -slope + .1, 3), np.linspace(100, 1000, 3))
best = min((minimize(prefit_objective, g, method="L-BFGS-B", bounds=[(0, np.inf)] * 4,
                     options={"maxiter": 100000, "ftol": 1e-9, "gtol": 1e-6, "eps": 1e-8}) for g in grid), key=lambda r: r.fun)
print("prefit", list(best.x), best.fun)

# Fit: AdamW on the raw parameters from (prefit, C=1, beta=0.5, gamma=0.5), every LR change from step 1 in LD.
tr = []
for st, loss, lr in runs:
    lr_t = torch.tensor(lr, dtype=torch.float64)
    gap = torch.zeros_like(lr_t); gap[1:] = lr_t[1:] - lr_t[:-1]
    tr.append((st.tolist(), torch.tensor(st), lr_t, torch.cumsum(lr_t, 0), gap, torch.tensor(loss, dtype=torch.float32)))
P = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in list(best.x) + [1.0, 0.5, 0.5]]
L0, A, alpha, B, C, beta, gamma = P
opt = torch.optim.AdamW([{"params": [L0, A, B, C], "lr": 5e-2}, {"params": [alpha, beta, gamma], "lr": 5e-3}])
def objective():
    total = 0
    for steps, st, lr, cs, gap, loss in tr:
        ld = torch.stack([torch.sum(gap[1:s + 1] * (1 - (1 + C * lr[1:s + 1] ** -gamma * (cs[s] - cs[:s])) ** -beta)) for s in steps])
        r = torch.log(loss) - torch.log(L0 + A * cs[st] ** -alpha + B * ld)
        total = total + torch.where(r.abs() < 1e-3, 0.5 * r * r, 1e-3 * (r.abs() - 0.5e-3)).sum()
    return total
best_f, lowest, stale, kept = float("inf"), float("inf"), 0, None
for step in range(200):
    opt.zero_grad(); f = objective(); f.backward(); opt.step()
    lowest, stale = (f.item(), 0) if f.item() < lowest else (lowest, stale + 1)
    if step > 20 and stale >= 20: break
    if torch.cat([p.grad.flatten() for p in P]).norm() < 1e-5: break
    if f.item() < best_f: best_f, kept = f.item(), [p.item() for p in P]   # the point after the best step, as the reference keeps it
print("fit", kept, best_f, "steps", step, "seconds", round(time.time() - t0, 1))
