"""The hook modules of the built-in packages: the plugins that register the core's components.

Each module implements ``mtdnn_register`` for one package and imports that package only inside the
hook, so loading the plugins (which every command does, ``mtdnn --help`` included) imports neither
torch nor transformers. The packages themselves (:mod:`mtdnn.heads`, ...) only define components.
"""
