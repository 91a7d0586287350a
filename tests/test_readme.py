"""The README's Python examples run as written (a doc that lies is a bug).

Blocks run in order in one namespace, as a reader pasting them would.
"""
import os
import re

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    # the repository and the sdist both ship README.md next to tests/
    text = open(README, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 1
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__readme__"}
    for i, code in enumerate(blocks):
        if "Client(" in code:               # starts a dask cluster: covered by test_sensitivity
            code = code[:code.index("from dask.distributed")]
        exec(compile(code, f"README.md python block {i}", "exec"), ns)
