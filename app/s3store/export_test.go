package s3store

// SetPageSize makes s list pageSize keys per request, so that tests cross pages with a few objects.
func SetPageSize(s *Store, pageSize int) { s.pageSize = pageSize }
