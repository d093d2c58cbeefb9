package database

// MaxSortKeyBytes is the longest SortKey of a key of at most MaxKeyBytes bytes: the worst case is a
// digit between every other byte ("1a1a…1"), each digit growing to three bytes.
const MaxSortKeyBytes = 512

// SortKey returns the bytes whose byte order is the natural order of keys: a run of ASCII digits
// compares by its numeric value, so "img2" sorts before "img10"; every other byte compares as itself,
// case included, as keys are compared everywhere else. Numbers equal but for leading zeros ("7",
// "007") get equal sort keys; callers order ties by the key itself.
//
// A digit run becomes the byte '0', then the length of the number without its leading zeros (one
// byte: a key holds at most 255 digits), then those digits. The '0' makes a run compare with any
// other byte as its first digit would, since no other byte lies between '0' and '9'; after two runs
// meet, the longer number is the larger, and numbers of one length compare digit by digit.
//
// The database stores it beside the key because neither SQLite nor MySQL sorts this way: ordering by
// a stored, indexed column lets the keys page filter and page in SQL at any number of keys.
func SortKey(key string) []byte {
	out := make([]byte, 0, len(key)+8)
	for i := 0; i < len(key); {
		if !isDigit(key[i]) {
			out = append(out, key[i])
			i++
			continue
		}
		j := i
		for j < len(key) && isDigit(key[j]) {
			j++
		}
		start := i
		for start < j-1 && key[start] == '0' {
			start++
		}
		out = append(out, '0', byte(j-start))
		out = append(out, key[start:j]...)
		i = j
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
