package web

// formField is a hidden field a confirmation form posts on.
type formField struct{ Name, Value string }

// confirmPage asks a person to confirm an action that changes something for good. It is reached by
// GET, so it changes nothing itself and needs no JavaScript; its form posts the action with the form
// token, and Cancel goes back.
type confirmPage struct {
	chrome
	Question string
	Detail   string
	Thumb    string // URL of an image to show, if any
	Action   string // the path the form posts to
	Fields   []formField
	Confirm  string // the button's label
	Cancel   string // URL of the page to go back to
}
