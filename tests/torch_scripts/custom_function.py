"""A new op added the torch way: a torch.autograd.Function with ctx.save_for_backward, checked with
gradcheck and used in a small fit. Run by tests/test_torch_scripts.py with torch and with
`python -m tensorgrad.run`; prints one JSON line."""
import json

import torch


class SoftPlus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return torch.log1p(torch.exp(beta * x)) / beta

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * torch.sigmoid(ctx.beta * x), None      # a tensor-op backward: twice differentiable


x = torch.linspace(-3, 3, 7, dtype=torch.float64).requires_grad_()
ok = torch.autograd.gradcheck(lambda t: SoftPlus.apply(t, 2.0), (x,))
ok2 = torch.autograd.gradgradcheck(lambda t: SoftPlus.apply(t, 2.0), (x,))
y = SoftPlus.apply(x, 2.0)
g, = torch.autograd.grad(y.sum(), x, create_graph=True)
g2, = torch.autograd.grad(g.sum(), x)

torch.manual_seed(0)
X = torch.linspace(-2, 2, 64).unsqueeze(1)
Y = torch.log1p(torch.exp(X)) * 1.5 - 0.5
w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([w, b], lr=0.1)
for _ in range(200):
    loss = ((SoftPlus.apply(X, 1.0) * w + b - Y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(json.dumps({"gradcheck": ok, "gradgradcheck": ok2, "grad": g.tolist(), "grad2": g2.tolist(),
                  "w": w.item(), "b": b.item(), "loss": loss.item()}))
