"""RNN, LSTM, GRU and their cells (torch.nn.modules.rnn), written with torch_js ops.

Parameters, names and the order default init draws them in are PyTorch's; the recurrences follow ATen's CPU
cells (aten/src/ATen/native/RNN.cpp): the input projection of a whole layer is one matmul, then per time step
`linear(h, w_hh, b_hh) + projected_input`, gate chunks in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n).
"""
import math
import numbers
import warnings

from ... import _dtype as D
from ...backends import mkldnn as _mkldnn
from ...ops import _autocast
from ...ops._util import rename_grad_fn
from ...ops.creation import empty, zeros
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .._packed_sequence import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _lstm_cell(gi, h, c, w_hh, b_hh, w_hr=None):
    gates = F.linear(h, w_hh, b_hh) + gi
    i, f, g, o = gates.chunk(4, 1)
    i = i.sigmoid()
    f = f.sigmoid()
    g = g.tanh()
    o = o.sigmoid()
    cy = f * c + i * g
    hy = o * cy.tanh()
    if w_hr is not None:
        hy = F.linear(hy, w_hr)
    return hy, cy


def _gru_cell(gi, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = (h_r + i_r).sigmoid()
    z = (h_z + i_z).sigmoid()
    n = (i_n + h_n * r).tanh()
    return (h - n) * z + n


def _rnn_cell(gi, h, w_hh, b_hh, relu):
    pre = F.linear(h, w_hh, b_hh) + gi
    return pre.relu() if relu else pre.tanh()


class RNNBase(Module):
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        elif mode in ("RNN_TANH", "RNN_RELU"):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                w_ih = Parameter(empty((gate_size, layer_input_size), **fk))
                w_hh = Parameter(empty((gate_size, real_hidden_size), **fk))
                b_ih = Parameter(empty(gate_size, **fk))
                b_hh = Parameter(empty(gate_size, **fk))
                if self.proj_size == 0:
                    layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                else:
                    w_hr = Parameter(empty((proj_size, hidden_size), **fk))
                    layer_params = (w_ih, w_hh, b_ih, b_hh, w_hr) if bias else (w_ih, w_hh, w_hr)
                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if self.proj_size > 0:
                    param_names += ["weight_hr_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(param_names)
                self._all_weights.append(param_names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def flatten_parameters(self):
        pass

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        g = lambda n: getattr(self, f"{n}_l{layer}{suffix}")  # noqa: E731
        w_ih, w_hh = g("weight_ih"), g("weight_hh")
        b_ih = g("bias_ih") if self.bias else None
        b_hh = g("bias_hh") if self.bias else None
        w_hr = g("weight_hr") if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x, hx, cx):
        """x: (T, B, I) time-major; hx: (L*D, B, H_out); cx: (L*D, B, H) or None. Returns out, h_n, c_n."""
        low = self._autocast_dtype(x)
        if low is None:
            return self._run_in(x, hx, cx)
        # PyTorch's CPU autocast runs oneDNN's LSTM layer (mkldnn_rnn_layer) in bfloat16: input, state and weights
        return _autocast.off(self._run_in, x.to(low), hx.to(low), cx.to(low), low)

    def _autocast_dtype(self, x):
        """bfloat16 where CPU autocast runs this LSTM as oneDNN's layer in it (ops/_autocast.py), else None."""
        low = _autocast.ON.get("cpu")
        return low if low is D.bfloat16 and self._onednn_layer(x, None) and not self.proj_size else None

    def _run_in(self, x, hx, cx, low=None):
        num_directions = 2 if self.bidirectional else 1
        T = x.shape[0]
        h_out, c_out = [], []
        layer_input = x
        for layer in range(self.num_layers):
            dir_outputs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                if low is not None:
                    w_ih, w_hh, b_ih, b_hh = (None if w is None else w.to(low) for w in (w_ih, w_hh, b_ih, b_hh))
                # input projection for every time step at once: (T, B, G)
                gi_all = F.linear(layer_input, w_ih, b_ih)
                h = hx[idx]
                c = cx[idx] if cx is not None else None
                steps = range(T - 1, -1, -1) if direction == 1 else range(T)
                outs = [None] * T
                for t in steps:
                    gi = gi_all[t]
                    if self.mode == "LSTM":
                        h, c = _lstm_cell(gi, h, c, w_hh, b_hh, w_hr)
                    elif self.mode == "GRU":
                        h = _gru_cell(gi, h, w_hh, b_hh)
                    else:
                        h = _rnn_cell(gi, h, w_hh, b_hh, self.mode == "RNN_RELU")
                    outs[t] = h
                dir_out = stack(outs, 0) if T > 0 else layer_input.new_zeros((0,) + tuple(h.shape))
                if T > 0 and (low is not None or self._onednn_layer(x, w_hr)):
                    dir_out = rename_grad_fn(dir_out, "MkldnnRnnLayerBackward0")
                dir_outputs.append(dir_out)
                h_out.append(h)
                if c is not None:
                    c_out.append(c)
            layer_output = dir_outputs[0] if num_directions == 1 else cat(dir_outputs, 2)
            if self.dropout != 0 and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        h_n = stack(h_out, 0)
        c_n = stack(c_out, 0) if c_out else None
        return layer_input, h_n, c_n

    def _onednn_layer(self, x, w_hr):
        """Whether PyTorch's CPU build runs this layer as oneDNN's rnn layer (a float32 LSTM without projections,
        torch.backends.mkldnn.enabled): its output's node is then MkldnnRnnLayerBackward0."""
        return (self.mode == "LSTM" and w_hr is None and x._dtype is D.float32 and x._storage.device.type == "cpu"
                and _mkldnn.enabled)

    def _run_packed(self, data, batch_sizes, hx, cx):
        """The recurrence over a PackedSequence's data (N, I): at step t only the first batch_sizes[t] sequences
        run; the others keep their state (forward: they ended; reverse: they have not started, and start from
        their initial state). Returns the packed output data, h_n, c_n."""
        num_directions = 2 if self.bidirectional else 1
        sizes = [int(b) for b in batch_sizes.tolist()]
        offsets = [0]
        for bs in sizes:
            offsets.append(offsets[-1] + bs)
        h_out, c_out = [], []
        layer_input = data
        for layer in range(self.num_layers):
            dir_outputs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                gi_all = F.linear(layer_input, w_ih, b_ih)
                h0 = hx[idx]
                c0 = cx[idx] if cx is not None else None
                outs = [None] * len(sizes)
                if direction == 0:
                    h, c = h0, c0
                    for t, bs in enumerate(sizes):
                        h_t, c_t = self._step(gi_all[offsets[t]:offsets[t + 1]], h[:bs],
                                              c[:bs] if c is not None else None, w_hh, b_hh, w_hr)
                        outs[t] = h_t
                        h = h_t if bs == h.shape[0] else cat([h_t, h[bs:]], 0)
                        if c is not None:
                            c = c_t if bs == c.shape[0] else cat([c_t, c[bs:]], 0)
                else:
                    h = h0[:sizes[-1]] if sizes else h0
                    c = c0[:sizes[-1]] if c0 is not None and sizes else c0
                    for t in range(len(sizes) - 1, -1, -1):
                        bs = sizes[t]
                        if bs > h.shape[0]:   # sequences that end at this step start here, from their initial state
                            h = cat([h, h0[h.shape[0]:bs]], 0)
                            if c is not None:
                                c = cat([c, c0[c.shape[0]:bs]], 0)
                        h, c = self._step(gi_all[offsets[t]:offsets[t + 1]], h, c, w_hh, b_hh, w_hr)
                        outs[t] = h
                dir_outputs.append(cat(outs, 0) if outs else layer_input.new_zeros((0, h0.shape[-1])))
                h_out.append(h)
                if c is not None:
                    c_out.append(c)
            layer_output = dir_outputs[0] if num_directions == 1 else cat(dir_outputs, 1)
            if self.dropout != 0 and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        return layer_input, stack(h_out, 0), (stack(c_out, 0) if c_out else None)

    def _step(self, gi, h, c, w_hh, b_hh, w_hr):
        if self.mode == "LSTM":
            return _lstm_cell(gi, h, c, w_hh, b_hh, w_hr)
        if self.mode == "GRU":
            return _gru_cell(gi, h, w_hh, b_hh), None
        return _rnn_cell(gi, h, w_hh, b_hh, self.mode == "RNN_RELU"), None

    def _packed_state(self, hx, packed, size, name="hx"):
        """The initial state for a PackedSequence: zeros, or hx reordered as the batch was sorted."""
        num_directions = 2 if self.bidirectional else 1
        data = packed.data
        max_batch = int(packed.batch_sizes[0]) if packed.batch_sizes.numel() else 0
        if hx is None:
            return zeros((self.num_layers * num_directions, max_batch, size), dtype=data.dtype, device=data.device)
        if hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, {name} should also be 3-D but got {hx.dim()}-D tensor")
        expected = (self.num_layers * num_directions, max_batch, size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")
        return hx if packed.sorted_indices is None else hx.index_select(1, packed.sorted_indices)

    def _packed_forward(self, packed, hx, cx):
        if packed.data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {packed.data.dim()}")
        if packed.data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{packed.data.shape[-1]}")
        out, h_n, c_n = self._run_packed(packed.data, packed.batch_sizes, hx, cx)
        output = PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        if packed.unsorted_indices is not None:     # the final states back in the caller's batch order
            h_n = h_n.index_select(1, packed.unsorted_indices)
            c_n = c_n.index_select(1, packed.unsorted_indices) if c_n is not None else None
        return output, h_n, c_n

    def _prepare(self, input, hx_shape_last):
        is_batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(f"{self.__class__.__name__}: Expected input to be 2D or 3D, got {input.dim()}D "
                             "instead")
        if not is_batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")
        return input, is_batched

    def _init_state(self, hx, input, is_batched, size, label="hidden"):
        num_directions = 2 if self.bidirectional else 1
        B = input.shape[1]
        if hx is None:
            return zeros((self.num_layers * num_directions, B, size), dtype=input.dtype, device=input.device)
        if not is_batched:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
        elif hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        expected = (self.num_layers * num_directions, B, size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {label} size {expected}, got {list(hx.shape)}")
        return hx

    def _finish(self, out, is_batched):
        if not is_batched:
            return out.squeeze(1)
        if self.batch_first:
            return out.transpose(0, 1)
        return out

    def _forward_hidden_only(self, input, hx):
        """RNN/GRU forward: one hidden state in, (output, h_n) out (LSTM also carries a cell state)."""
        if isinstance(input, PackedSequence):
            output, h_n, _ = self._packed_forward(input, self._packed_state(hx, input, self.hidden_size), None)
            return output, h_n
        x, is_batched = self._prepare(input, self.hidden_size)
        h0 = self._init_state(hx, x, is_batched, self.hidden_size)
        out, h_n, _ = self._run(x, h0, None)
        if not is_batched:
            h_n = h_n.squeeze(1)
        return self._finish(out, is_batched), h_n


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def __setattr__(self, name, value):
        if name == "nonlinearity" and "_parameters" not in self.__dict__:
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    def forward(self, input, hx=None):
        return self._forward_hidden_only(input, hx)


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if isinstance(input, PackedSequence):
            h0 = self._packed_state(None if hx is None else hx[0], input, real_hidden)
            c0 = self._packed_state(None if hx is None else hx[1], input, self.hidden_size, "cx")
            output, h_n, c_n = self._packed_forward(input, h0, c0)
            return output, (h_n, c_n)
        x, is_batched = self._prepare(input, self.hidden_size)
        if hx is None:
            h0 = self._init_state(None, x, is_batched, real_hidden)
            c0 = self._init_state(None, x, is_batched, self.hidden_size)
        else:
            want = 3 if is_batched else 2
            if hx[0].dim() != want or hx[1].dim() != want:
                raise RuntimeError(f"For {'batched 3-D' if is_batched else 'unbatched 2-D'} input, hx and cx should "
                                   f"also be {want}-D but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            h0 = self._init_state(hx[0], x, is_batched, real_hidden, "hidden[0]")
            c0 = self._init_state(hx[1], x, is_batched, self.hidden_size, "hidden[1]")
        out, h_n, c_n = self._run(x, h0, c0)
        if not is_batched:
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1)
        return self._finish(out, is_batched), (h_n, c_n)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_hidden_only(input, hx)


class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **fk))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **fk))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **fk))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batch(self, input, hx, n):
        if input.dim() not in (1, 2):
            raise ValueError(f"{self.__class__.__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = tuple(zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
                       for _ in range(n))
        else:
            hx = tuple(h.unsqueeze(0) if not is_batched else h for h in (hx if n > 1 else (hx,)))
        return input, hx, is_batched


class RNNCell(RNNCellBase):
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), is_batched = self._batch(input, hx, 1)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        hy = _rnn_cell(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                       self.nonlinearity == "relu")
        return hy if is_batched else hy.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h, c), is_batched = self._batch(input, hx, 2)
        hy, cy = _lstm_cell(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        if not is_batched:
            return hy.squeeze(0), cy.squeeze(0)
        return hy, cy


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), is_batched = self._batch(input, hx, 1)
        hy = _gru_cell(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return hy if is_batched else hy.squeeze(0)
