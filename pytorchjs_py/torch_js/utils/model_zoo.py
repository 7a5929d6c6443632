"""torch.utils.model_zoo: PyTorch's old name for loading a checkpoint by URL, torch.hub.load_state_dict_from_url
(offline in torch_js: a file already in the hub cache loads, anything else would need a download and raises)."""
from ..hub import load_state_dict_from_url as load_url  # noqa: F401

__all__ = ["load_url"]
