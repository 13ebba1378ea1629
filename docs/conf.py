"""Sphinx configuration of the aiida-mlpgen documentation (MyST Markdown pages)."""

import aiida_mlpgen

project = 'aiida-mlpgen'
author = 'aiida-mlpgen developers'
release = aiida_mlpgen.__version__
extensions = ['myst_parser', 'sphinx.ext.autodoc', 'sphinx_click']
myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3
source_suffix = {'.md': 'markdown'}
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_title = 'aiida-mlpgen'
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': False}
nitpicky = False
