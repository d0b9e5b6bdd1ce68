// Package webtest drives the web client in a real Chromium against real
// gateway, authsvc, chatsvc and consumer processes. It holds only tests:
// they build the four binaries, start them on free loopback ports with
// their data in temporary directories, and control two browser contexts
// through the DevTools protocol with chromedp.
package webtest
