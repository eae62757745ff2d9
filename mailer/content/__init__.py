"""Issue content: the issue document model, its two input formats, issues and partners."""
