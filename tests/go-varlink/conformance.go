// SPDX-License-Identifier: LGPL-2.1-or-later
// Varlink conformance of numavd, checked with a client the project did not write: the Go varlink
// library (github.com/varlink/go, Debian's golang-github-varlink-go-dev). Prints TAP.
//
//	conformance ADDRESS
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

var n, failed int

func ok(pass bool, format string, args ...interface{}) {
	n++
	status := "ok"
	if !pass {
		status = "not ok"
		failed++
	}
	fmt.Printf("%s %d - %s\n", status, n, fmt.Sprintf(format, args...))
}

func errName(err error) string {
	if err == nil {
		return ""
	}
	switch e := err.(type) {
	case *varlink.Error:
		return e.Name
	default:
		return e.Error()
	}
}

type node struct {
	ID         int64   `json:"id"`
	TotalBytes int64   `json:"totalBytes"`
	FreeBytes  int64   `json:"freeBytes"`
	HighWmark  *int64  `json:"highWatermarkBytes"`
	FloorBytes int64   `json:"floorBytes"`
	Distances  []int64 `json:"distances"`
}

type host struct {
	Version string `json:"version"`
	Backend string `json:"backend"`
	Epoch   int64  `json:"epoch"`
	VMs     int64  `json:"vms"`
	Nodes   []node `json:"nodes"`
}

type vm struct {
	Name           string           `json:"name"`
	UUID           string           `json:"uuid"`
	Pid            int64            `json:"pid"`
	MemoryBytes    int64            `json:"memoryBytes"`
	MemoryPerNode  []int64          `json:"memoryPerNode"`
	HotBytes       int64            `json:"hotBytes"`
	BytesByVerdict map[string]int64 `json:"bytesByVerdict"`
	Frozen         bool             `json:"frozen"`
	Balloon        *json.RawMessage `json:"balloon"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: conformance ADDRESS")
		os.Exit(2)
	}
	address := os.Args[1]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	c, err := varlink.NewConnection(ctx, address)
	ok(err == nil, "the Go client connects to %s: %v", address, err)
	if err != nil {
		fmt.Printf("1..%d\n", n)
		os.Exit(1)
	}
	defer c.Close()

	// org.varlink.service
	var vendor, product, version, url string
	var interfaces []string
	err = c.GetInfo(ctx, &vendor, &product, &version, &url, &interfaces)
	ok(err == nil && product == "numavd" && len(interfaces) == 2 && interfaces[0] == "org.varlink.service" &&
		interfaces[1] == "io.numavd.Manager", "GetInfo: %s %s %v (%v)", product, version, interfaces, err)
	for _, name := range interfaces {
		desc, err := c.GetInterfaceDescription(ctx, name)
		ok(err == nil, "GetInterfaceDescription(%s) (%v)", name, err)
		parsed, err := idl.New(desc)
		note := ""
		if err != nil && name != strings.ToLower(name) {
			// varlink-go 0.4.0 (Debian 12) predates the spec's allowing upper case in
			// interface names (varlink/go#28, fixed upstream by #29): everything but the
			// name must still parse.
			parsed, err = idl.New(strings.Replace(desc, "interface "+name, "interface "+strings.ToLower(name), 1))
			note = " (interface name lowercased: varlink-go 0.4.0 rejects upper case, varlink/go#28)"
			name = strings.ToLower(name)
		}
		ok(err == nil && parsed.Name == name, "the Go IDL parser parses %s%s (%v)", name, note, err)
		if strings.EqualFold(name, "io.numavd.Manager") && parsed != nil {
			var methods []string
			for _, m := range parsed.Methods {
				methods = append(methods, m.Name)
			}
			want := "GetHeatMap GetHost GetVM ListVMs NotifyDomain Reload SetLogLevel Subscribe"
			got := strings.Join(sortStrings(methods), " ")
			ok(got == want, "io.numavd.Manager declares %s", got)
			hasVM, hasNoVM := false, false
			for _, a := range parsed.Aliases {
				hasVM = hasVM || a.Name == "VM"
			}
			for _, e := range parsed.Errors {
				hasNoVM = hasNoVM || e.Name == "NoSuchVM"
			}
			ok(hasVM && hasNoVM, "io.numavd.Manager declares type VM and error NoSuchVM")
		}
	}
	_, err = c.GetInterfaceDescription(ctx, "org.example.Nothing")
	_, isNotFound := err.(*varlink.InterfaceNotFound)
	ok(isNotFound, "GetInterfaceDescription of an unknown interface: InterfaceNotFound (%s)", errName(err))

	// GetHost, with parameters null (the Go client's Call sends null), {} and absent
	var h host
	err = c.Call(ctx, "io.numavd.Manager.GetHost", nil, &h)
	ok(err == nil && h.Backend == "sim" && len(h.Nodes) == 2 && h.Nodes[0].TotalBytes > 0 &&
		len(h.Nodes[1].Distances) == 2, "GetHost with parameters null: backend %s, %d nodes (%v)",
		h.Backend, len(h.Nodes), err)
	floor, highWmark := int64(-1), int64(-1) // -1: no node 1, or a null watermark
	if len(h.Nodes) == 2 {
		floor = h.Nodes[1].FloorBytes
		if h.Nodes[1].HighWmark != nil {
			highWmark = *h.Nodes[1].HighWmark
		}
	}
	ok(highWmark > 0 && floor >= highWmark, "GetHost: node 1's floor is at least its high watermark (%d, %d)",
		floor, highWmark)
	err = c.Call(ctx, "io.numavd.Manager.GetHost", struct{}{}, &h)
	ok(err == nil, "GetHost with parameters {} (%v)", err)
	recv, err := c.Send(ctx, "io.numavd.Manager.GetHost", nil, 0)
	if err == nil {
		_, err = recv(ctx, &h)
	}
	ok(err == nil, "GetHost with parameters absent (%v)", err)

	// ListVMs: all at once, and one reply per VM with more
	var all struct {
		VMs []vm `json:"vms"`
	}
	err = c.Call(ctx, "io.numavd.Manager.ListVMs", nil, &all)
	ok(err == nil && len(all.VMs) == 2, "ListVMs without more: %d VMs in one reply (%v)", len(all.VMs), err)
	recv, err = c.Send(ctx, "io.numavd.Manager.ListVMs", nil, varlink.More)
	replies, names := 0, []string{}
	for err == nil {
		var one struct {
			VMs []vm `json:"vms"`
		}
		var flags uint64
		flags, err = recv(ctx, &one)
		if err != nil {
			break
		}
		replies++
		for _, v := range one.VMs {
			names = append(names, v.Name)
		}
		if flags&varlink.Continues == 0 {
			break
		}
	}
	ok(err == nil && replies == 2 && len(names) == 2, "ListVMs with more: %d replies, VMs %v (%v)", replies, names, err)

	// GetVM by name, uuid, pid; NoSuchVM; InvalidParameter
	if len(all.VMs) > 0 {
		first := all.VMs[0]
		var r struct {
			VM vm `json:"vm"`
		}
		err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]string{"name": first.Name}, &r)
		ok(err == nil && r.VM.Name == first.Name && len(r.VM.MemoryPerNode) == 2 && r.VM.BytesByVerdict != nil,
			"GetVM by name %s (%v)", first.Name, err)
		err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]int64{"pid": first.Pid}, &r)
		ok(err == nil && r.VM.Name == first.Name, "GetVM by pid %d (%v)", first.Pid, err)
		if first.UUID != "" {
			err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]string{"uuid": first.UUID}, &r)
			ok(err == nil && r.VM.Name == first.Name, "GetVM by uuid %s (%v)", first.UUID, err)
		}
		ok(r.VM.Balloon == nil, "unknown fields are null (balloon)")
	}
	err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]string{"name": "no-such-vm"}, nil)
	ok(errName(err) == "io.numavd.Manager.NoSuchVM", "GetVM of an unknown VM: %s", errName(err))
	err = c.Call(ctx, "io.numavd.Manager.GetVM", nil, nil)
	_, isInvalid := err.(*varlink.InvalidParameter)
	ok(isInvalid, "GetVM with no key: InvalidParameter (%s)", errName(err))
	err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]interface{}{"pid": "one"}, nil)
	p, isInvalid := err.(*varlink.InvalidParameter)
	ok(isInvalid && p.Parameter == "pid", "GetVM with a string pid: InvalidParameter pid (%s)", errName(err))

	// Standard errors
	err = c.Call(ctx, "io.numavd.Manager.NoSuchMethod", nil, nil)
	_, isMethod := err.(*varlink.MethodNotFound)
	ok(isMethod, "an unknown method: MethodNotFound (%s)", errName(err))
	err = c.Call(ctx, "org.example.Nothing.Call", nil, nil)
	_, isNotFound = err.(*varlink.InterfaceNotFound)
	ok(isNotFound, "an unknown interface: InterfaceNotFound (%s)", errName(err))
	err = c.Call(ctx, "io.numavd.Manager.Subscribe", nil, nil)
	ok(errName(err) == "org.varlink.service.ExpectedMore", "Subscribe without more: ExpectedMore (%s)", errName(err))

	// SetLogLevel, Reload (as root)
	err = c.Call(ctx, "io.numavd.Manager.SetLogLevel", map[string]string{"level": "debug"}, nil)
	ok(err == nil, "SetLogLevel debug (%v)", err)
	err = c.Call(ctx, "io.numavd.Manager.SetLogLevel", map[string]string{"level": "info"}, nil)
	ok(err == nil, "SetLogLevel info (%v)", err)
	err = c.Call(ctx, "io.numavd.Manager.SetLogLevel", map[string]string{"level": "shouting"}, nil)
	p, isInvalid = err.(*varlink.InvalidParameter)
	ok(isInvalid && p.Parameter == "level", "SetLogLevel of a bad level: InvalidParameter level (%s)", errName(err))
	err = c.Call(ctx, "io.numavd.Manager.Reload", nil, nil)
	ok(err == nil, "Reload (%v)", err)

	// NotifyDomain: oneway (no reply; the next call on the connection is answered), then with a reply
	_, err = c.Send(ctx, "io.numavd.Manager.NotifyDomain", map[string]string{"name": all.VMs[0].Name,
		"operation": "migrate", "subOperation": "begin"}, varlink.Oneway)
	ok(err == nil, "NotifyDomain oneway migrate begin is sent (%v)", err)
	var r struct {
		VM vm `json:"vm"`
	}
	err = c.Call(ctx, "io.numavd.Manager.GetVM", map[string]string{"name": all.VMs[0].Name}, &r)
	ok(err == nil && r.VM.Frozen, "after the oneway call, the next reply is GetVM's and the VM is frozen (%v)", err)
	err = c.Call(ctx, "io.numavd.Manager.NotifyDomain", map[string]string{"name": all.VMs[0].Name,
		"operation": "started", "subOperation": "begin"}, nil)
	ok(err == nil, "NotifyDomain started begin (the thaw) with a reply (%v)", err)
	err = c.Call(ctx, "io.numavd.Manager.NotifyDomain", map[string]string{"operation": "started"}, nil)
	ok(errName(err) == "org.varlink.service.InvalidParameter", "NotifyDomain without a name: InvalidParameter (%s)",
		errName(err))

	// Subscribe: one reply per epoch
	s, err := varlink.NewConnection(ctx, address)
	if err == nil {
		recv, err = s.Send(ctx, "io.numavd.Manager.Subscribe", nil, varlink.More)
	}
	epochs := []int64{}
	for i := 0; err == nil && i < 3; i++ {
		var e struct {
			Epoch int64 `json:"epoch"`
			VMs   []struct {
				Name string `json:"name"`
			} `json:"vms"`
		}
		var flags uint64
		flags, err = recv(ctx, &e)
		if err == nil && flags&varlink.Continues != 0 && len(e.VMs) == 2 {
			epochs = append(epochs, e.Epoch)
		}
	}
	ok(err == nil && len(epochs) == 3 && epochs[1] > epochs[0] && epochs[2] > epochs[1],
		"Subscribe with more: three replies with continues, epochs %v (%v)", epochs, err)
	if s != nil {
		s.Close()
	}
	var h2 host
	err = c.Call(ctx, "io.numavd.Manager.GetHost", nil, &h2)
	ok(err == nil && h2.Epoch > 0, "the first connection still works after the subscriber left (%v)", err)

	fmt.Printf("1..%d\n", n)
	if failed > 0 {
		os.Exit(1)
	}
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
