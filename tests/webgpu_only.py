"""The common start of the webgpu test files: `import webgpu_only` first. They run in Pyodide with the WebGPU bridge
loaded (`make test-webgpu`, which tests/test_structure.py checks names them) and skip as a whole elsewhere."""
import pytest

pytest.importorskip("js")
import torch_js  # noqa: E402

if not torch_js.webgpu.is_available():
    pytest.skip("webgpu bridge not loaded (run `make test-webgpu`)", allow_module_level=True)


@pytest.fixture(scope="module")
def lazy_module():
    """The bridge started and lazy execution on for a test module (`pytestmark = pytest.mark.usefixtures(...)`)."""
    torch_js.webgpu._init_sync()
    was = torch_js.webgpu.set_lazy(True)
    yield
    torch_js.webgpu.set_lazy(was)

