# filled in by parts
