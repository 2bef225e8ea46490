"""Building `.python_packages` for Azure's Linux platform, checking it, and staging the package.

- `base`: what a build reports through and what it returns;
- `distributions`: the distributions an install left (dist-info, wheel tags);
- `bookkeeping`: the installers' own files (uv's `.lock`, `uv_cache.json`…), removed;
- `binaries`: the post-install check of every native file (pyelftools);
- `sources`: requirements that have no wheel for the target, found and built as pure wheels;
- `smoke`: importing the app's functions in a fresh interpreter with the worker's `sys.path`;
- `staging`: the files that ship, and the optional atomic swap into the project;
- `pipeline`: build, check, smoke, swap, in order (what `pack` and `publish` call).
"""
