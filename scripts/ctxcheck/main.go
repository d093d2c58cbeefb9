// Command ctxcheck reports a *fasthttp.RequestCtx passed on as a context.Context. It runs under
// go vet: go vet -vettool=$(command -v ctxcheck) ./...
//
// A RequestCtx satisfies context.Context, so the compiler accepts it anywhere a context is wanted. But
// fasthttp reuses it for the next request once the handler returns, while database/sql and the context
// package keep goroutines that read their parent context after the call that was given it: a data
// race, and a context whose values belong to another request. Handlers take their context as a
// separate argument instead.
package main

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/analysis/unitchecker"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer finds a *fasthttp.RequestCtx used as a context.Context: as a call argument, in an
// assignment or a variable declaration, as a returned value, in a composite literal or sent on a
// channel.
var Analyzer = &analysis.Analyzer{
	Name:     "ctxcheck",
	Doc:      "report a *fasthttp.RequestCtx passed on as a context.Context (fasthttp reuses it after the handler returns)",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func main() { unitchecker.Main(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	check := func(e ast.Expr, to types.Type) {
		if isContext(to) && isRequestCtx(pass.TypesInfo.TypeOf(e)) {
			pass.Reportf(e.Pos(), "*fasthttp.RequestCtx used as a context.Context: fasthttp reuses it after the handler returns; pass a context of its own")
		}
	}
	var funcs []*types.Signature // enclosing functions, for return statements
	ins.Nodes([]ast.Node{(*ast.CallExpr)(nil), (*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.ReturnStmt)(nil),
		(*ast.CompositeLit)(nil), (*ast.SendStmt)(nil), (*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node, push bool) bool {
		switch n := n.(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			if !push {
				funcs = funcs[:len(funcs)-1]
				return true
			}
			var sig *types.Signature
			if d, ok := n.(*ast.FuncDecl); ok {
				if obj := pass.TypesInfo.Defs[d.Name]; obj != nil {
					sig, _ = obj.Type().(*types.Signature)
				}
			} else {
				sig, _ = pass.TypesInfo.TypeOf(n.(*ast.FuncLit)).(*types.Signature)
			}
			funcs = append(funcs, sig)
		case *ast.CallExpr:
			if !push {
				return true
			}
			ft := pass.TypesInfo.TypeOf(n.Fun)
			if ft == nil { // not type-checked: nothing to compare against
				return true
			}
			sig, ok := ft.Underlying().(*types.Signature)
			if !ok { // a conversion such as context.Context(ctx)
				if tv, ok := pass.TypesInfo.Types[n.Fun]; ok && tv.IsType() && len(n.Args) == 1 {
					check(n.Args[0], tv.Type)
				}
				return true
			}
			for i, arg := range n.Args {
				check(arg, paramType(sig, i, n.Ellipsis.IsValid()))
			}
		case *ast.AssignStmt:
			if push && len(n.Lhs) == len(n.Rhs) {
				for i, rhs := range n.Rhs {
					check(rhs, pass.TypesInfo.TypeOf(n.Lhs[i]))
				}
			}
		case *ast.ValueSpec:
			if push && n.Type != nil && len(n.Values) == len(n.Names) {
				for _, v := range n.Values {
					check(v, pass.TypesInfo.TypeOf(n.Type))
				}
			}
		case *ast.CompositeLit:
			if push {
				checkElements(pass, n, check)
			}
		case *ast.SendStmt:
			if push {
				if ch, ok := pass.TypesInfo.TypeOf(n.Chan).Underlying().(*types.Chan); ok {
					check(n.Value, ch.Elem())
				}
			}
		case *ast.ReturnStmt:
			if push && len(funcs) > 0 && funcs[len(funcs)-1] != nil {
				res := funcs[len(funcs)-1].Results()
				if res.Len() == len(n.Results) {
					for i, r := range n.Results {
						check(r, res.At(i).Type())
					}
				}
			}
		}
		return true
	})
	return nil, nil
}

// checkElements checks the values of a composite literal against the types they are stored as.
func checkElements(pass *analysis.Pass, lit *ast.CompositeLit, check func(ast.Expr, types.Type)) {
	t := pass.TypesInfo.TypeOf(lit)
	if t == nil {
		return
	}
	if p, ok := t.Underlying().(*types.Pointer); ok { // &T{...} elided in a slice of pointers
		t = p.Elem()
	}
	for i, e := range lit.Elts {
		kv, keyed := e.(*ast.KeyValueExpr)
		switch u := t.Underlying().(type) {
		case *types.Struct:
			if keyed {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if f, ok := pass.TypesInfo.Uses[id].(*types.Var); ok {
						check(kv.Value, f.Type())
					}
				}
			} else if i < u.NumFields() {
				check(e, u.Field(i).Type())
			}
		case *types.Slice, *types.Array, *types.Map:
			elem := u.(interface{ Elem() types.Type }).Elem()
			if keyed {
				if m, ok := u.(*types.Map); ok {
					check(kv.Key, m.Key())
				}
				check(kv.Value, elem)
			} else {
				check(e, elem)
			}
		}
	}
}

// paramType is the type the i-th argument is assigned to.
func paramType(sig *types.Signature, i int, spread bool) types.Type {
	params := sig.Params()
	if sig.Variadic() && i >= params.Len()-1 {
		last := params.At(params.Len() - 1).Type()
		if spread {
			return last
		}
		return last.(*types.Slice).Elem()
	}
	if i < params.Len() {
		return params.At(i).Type()
	}
	return nil
}

func isContext(t types.Type) bool { return isNamed(t, "context", "Context") }

func isRequestCtx(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	return ok && isNamed(p.Elem(), "github.com/valyala/fasthttp", "RequestCtx")
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}
