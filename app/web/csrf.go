package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/api"
)

// A page form carries a token that must equal the one in the browser's cookie (a double-submit
// cookie): another site can make a browser send the cookie, but can neither read it nor set it, so it
// cannot fill in the form's field. No server state is needed, so any backend checks any form.
const (
	csrfCookie = api.FormTokenCookie
	csrfField  = api.FormTokenField
	csrfBytes  = 32
)

// formToken returns the request's form token, setting a new one in a cookie when it has none.
func formToken(rc *fasthttp.RequestCtx) string {
	if t := string(rc.Request.Header.Cookie(csrfCookie)); validToken(t) {
		return t
	}
	b := make([]byte, csrfBytes)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	t := hex.EncodeToString(b)
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(csrfCookie)
	c.SetValue(t)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	rc.Response.Header.SetCookie(c)
	rc.Request.Header.SetCookie(csrfCookie, t) // a page rendered later in this request uses the same one
	return t
}

func validToken(t string) bool {
	if len(t) != 2*csrfBytes {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

// checkForm refuses a page form whose token does not match the cookie's.
func checkForm(rc *fasthttp.RequestCtx, field string) error {
	cookie := rc.Request.Header.Cookie(csrfCookie)
	if !validToken(field) || subtle.ConstantTimeCompare(cookie, []byte(field)) != 1 {
		return errorf(app.ErrForbidden, "This form is out of date or came from another site. Reload the page and send it again.")
	}
	return nil
}
