package cache

// list is a doubly linked list of entries threaded through Store.links by
// index. The head is the newest or most recently used end; prev points towards
// it. Every policy's queues are lists over the same links, since an entry is in
// exactly one of them at a time.
type list struct{ head, tail int32 }

// emptyList returns a list with no entries; the zero list would name entry 0.
func emptyList() list { return list{head: nilIndex, tail: nilIndex} }

// pushFront makes entry i, which is in no list, the head of l.
func (l *list) pushFront(links []link, i int32) {
	links[i] = link{prev: nilIndex, next: l.head}
	if l.head != nilIndex {
		links[l.head].prev = i
	} else {
		l.tail = i
	}
	l.head = i
}

// unlink takes entry i out of l, leaving its own links stale.
func (l *list) unlink(links []link, i int32) {
	e := links[i]
	if e.prev != nilIndex {
		links[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nilIndex {
		links[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
}

// moveToFront makes entry i, which is in l, its head.
func (l *list) moveToFront(links []link, i int32) {
	if l.head == i {
		return
	}
	e := links[i]
	// i is not the head, so it has a predecessor.
	links[e.prev].next = e.next
	if e.next != nilIndex {
		links[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	links[i] = link{prev: nilIndex, next: l.head}
	links[l.head].prev = i
	l.head = i
}

// prepend moves every entry of front, in order, before the head of l, and
// empties front. It is O(1).
func (l *list) prepend(links []link, front *list) {
	if front.head == nilIndex {
		return
	}
	if l.head == nilIndex {
		*l = *front
	} else {
		links[front.tail].next = l.head
		links[l.head].prev = front.tail
		l.head = front.head
	}
	*front = emptyList()
}
