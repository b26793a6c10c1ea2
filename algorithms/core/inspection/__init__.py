"""Model inspection: the kernel database, kernel files, feature maps and their reports."""
