"""Writing repositories: new repositories in the seeds' layouts, apps in a repository's own
conventions, and the seeds' mode switches as minimal Git-tracked edits."""
