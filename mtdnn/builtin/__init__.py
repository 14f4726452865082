"""The built-in plugins that register the core's kinds (:mod:`.kinds`) and components (:mod:`.components`).

They import the packages that define the components only inside their hooks, so loading the
plugins (which every command does, ``mtdnn --help`` included) imports neither torch nor
transformers. The packages themselves (:mod:`mtdnn.heads`, ...) only define components.
"""
