package memcache

import (
	"net"
	"strings"
	"testing"
)

func TestAdvertiseURL(t *testing.T) {
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tests := []struct {
		name, advertise string
		bound           net.Addr
		want, wantErr   string
	}{
		{"loopback", "", tcp("127.0.0.1:5001"), "http://127.0.0.1:5001", ""},
		{"a concrete address", "", tcp("10.1.2.3:5001"), "http://10.1.2.3:5001", ""},
		{"ipv6", "", tcp("[::1]:5001"), "http://[::1]:5001", ""},
		{"given", "http://cache-3.internal:5001", tcp("0.0.0.0:5001"), "http://cache-3.internal:5001", ""},
		{"wildcard without advertise", "", tcp("0.0.0.0:5001"), "", "-advertise"},
		{"ipv6 wildcard without advertise", "", tcp("[::]:5001"), "", "-advertise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := advertiseURL(tt.advertise, tt.bound)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("advertiseURL = %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("advertiseURL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
