// Paths under a config's `data_root` (the folder holding its corpora).
{
  // `file` inside `root`; an absolute `file` stays as it is.
  under(root, file):: if std.startsWith(file, '/') then file else root + '/' + file,
}
