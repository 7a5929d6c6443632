"""L-BFGS (limited-memory BFGS) with an optional strong-Wolfe line search, following PyTorch's LBFGS step for step.

Like torch, all state is global but kept under the first parameter (so load_state_dict casts it), and scalars mix
Python floats with 0-d float32 tensors the same way, so the same iterates come out."""
from .._tensor import Tensor
from .._grad_mode import enable_grad, no_grad
from ..ops.shape import cat
from ._line_search import _div, strong_wolfe
from .optimizer import Optimizer, _to_scalar

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """L-BFGS over all parameters as one flat vector. step(closure) runs up to max_iter iterations, calling
    closure() (which must zero the grads, compute the loss, backward() and return it) up to max_eval times. One
    parameter group only."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                                  "history_size": history_size, "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def _numel(self):
        if self._numel_cache is None:
            self._numel_cache = sum(p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self):
        """All gradients as one new flat tensor (zeros for a param without a gradient)."""
        return cat([p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1) for p in self._params], 0)

    def _add_grad(self, step_size, update):
        """params += step_size * update, with update laid out like _gather_flat_grad()."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(update[offset:offset + n].view_as(p), alpha=step_size)
            offset += n
        if offset != self._numel():
            raise AssertionError(f"Expected offset {offset} to equal {self._numel()}")

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, flat gradient) at x + t*d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x, strict=True):
            p.copy_(saved)
        return loss, flat_grad

    @staticmethod
    def _direction(flat_grad, history, H_diag, al):
        """-H * flat_grad by the two-loop recursion over the stored (y, s, 1/y.s) triples, H the L-BFGS
        inverse-Hessian estimate whose initial diagonal is H_diag. The first loop's coefficients go into al (kept in
        state, as torch does)."""
        old_dirs, old_stps, ro = history
        q = flat_grad.neg()
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q.add_(old_dirs[i], alpha=-al[i])
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r.add_(old_stps[i], alpha=al[i] - be_i)
        return r

    @staticmethod
    def _remember(history, H_diag, y, s, history_size):
        """Store the curvature pair (y = change of gradient, s = step taken) unless y.s is too small to keep the
        estimate positive definite (the oldest pair goes once history_size are stored); returns the new H_diag."""
        old_dirs, old_stps, ro = history
        ys = y.dot(s)
        if not ys > 1e-10:
            return H_diag
        if len(old_dirs) == history_size:
            for kept in history:
                kept.pop(0)
        old_dirs.append(y)
        old_stps.append(s)
        ro.append(_div(1.0, ys))
        return ys / y.dot(y)   # scale of the initial inverse Hessian: y.s / y.y

    def step(self, closure):
        with no_grad():
            return self._run(closure)

    def _run(self, closure):
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        group = self.param_groups[0]
        lr = _to_scalar(group["lr"])
        max_iter, max_eval, history_size = group["max_iter"], group["max_eval"], group["history_size"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn = group["line_search_fn"]

        def evaluate():
            with enable_grad():   # the closure must build a graph even though step() runs under no_grad
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if flat_grad.abs().max() <= tolerance_grad:   # already at a stationary point
            return orig_loss

        # carried over from the previous step() call (None on the first)
        d, t, H_diag = state.get("d"), state.get("t"), state.get("H_diag")
        history = (state.get("old_dirs"), state.get("old_stps"), state.get("ro"))
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:   # very first iteration: steepest descent, empty history
                d = flat_grad.neg()
                history, H_diag = ([], [], []), 1
            else:
                H_diag = self._remember(history, H_diag, flat_grad.sub(prev_flat_grad), d.mul(t), history_size)
                if "al" not in state:
                    state["al"] = [None] * history_size
                d = self._direction(flat_grad, history, H_diag, state["al"])
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # first step length: capped by 1/|g|_1 on the very first iteration (the direction is unscaled then)
            t = min(1.0, _div(1.0, flat_grad.abs().sum())) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)   # directional derivative
            if gtd > -tolerance_change:   # not a descent direction (any more)
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.clone() for p in self._params]
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    lambda x, step, direction: self._directional_evaluate(evaluate, x, step, direction),
                    x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            else:   # fixed step; the loss is re-evaluated except after the last iteration (it would go unused)
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change:   # the step no longer moves the parameters
                break
            if abs(loss - prev_loss) < tolerance_change:   # nor the loss
                break

        state.update(d=d, t=t, old_dirs=history[0], old_stps=history[1], ro=history[2], H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
