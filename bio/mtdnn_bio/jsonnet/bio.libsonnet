// Biomedical task helpers (mtdnn-bio). Import with `local bio = import 'bio.libsonnet';`.
{}
