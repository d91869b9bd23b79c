//! References between blocks: the dependency graph of objects, variables and locals, the
//! cycles in it (reported once each, at every member), and each object's dependencies through
//! locals.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn build_graph(&self, c: &Collected<'_>) -> DependencyGraph<Node> {
        let mut g = DependencyGraph::new();
        let declared = &self.declared;
        let exists = |t: &RefTarget| match t {
            RefTarget::Variable(n) => declared.variables.contains(n),
            RefTarget::Local(n) => declared.locals.contains(n),
            RefTarget::Object(Address::Vault(n)) => declared.vaults.contains(n),
            RefTarget::Object(Address::Plan(n)) => declared.plans.contains(n),
            RefTarget::Object(Address::Selection(n)) => declared.selections.contains(n),
            RefTarget::Object(Address::Directory(n)) => declared.directories.contains(n),
            RefTarget::Object(
                Address::Rule { .. }
                | Address::LegalHold(_)
                | Address::RestoreTest(_)
                | Address::Framework(_)
                | Address::Notification(_),
            ) => false,
        };
        let to_node = |t: RefTarget| match t {
            RefTarget::Variable(n) => Node::Variable(n),
            RefTarget::Local(n) => Node::Local(n),
            RefTarget::Object(a) => Node::Object(a),
        };
        let add_body = |g: &mut DependencyGraph<Node>, node: Node, body: &Body| {
            g.add_node(node.clone());
            for expr in body_expressions(body) {
                for (target, _) in eval::references(expr) {
                    if exists(&target) {
                        g.add_dependency(node.clone(), to_node(target));
                    }
                }
            }
        };
        for v in &c.variables {
            g.add_node(Node::Variable(v.name.clone()));
        }
        for l in &c.locals {
            let node = Node::Local(l.attr.key.value().as_str().to_string());
            g.add_node(node.clone());
            for (target, _) in eval::references(&l.attr.value) {
                if exists(&target) {
                    g.add_dependency(node.clone(), to_node(target));
                }
            }
        }
        for v in &c.vaults {
            add_body(
                &mut g,
                Node::Object(Address::Vault(v.name.clone())),
                &v.block.body,
            );
        }
        for p in &c.plans {
            let plan = Address::Plan(p.decl.name.clone());
            // the plan's own attributes (rules are separate objects)
            g.add_node(Node::Object(plan.clone()));
            for attr in p.decl.block.body.attributes() {
                for (target, _) in eval::references(&attr.value) {
                    if exists(&target) {
                        g.add_dependency(Node::Object(plan.clone()), to_node(target));
                    }
                }
            }
            for r in &p.rules {
                let rule = Node::Object(Address::Rule {
                    plan: p.decl.name.clone(),
                    rule: r.name.clone(),
                });
                add_body(&mut g, rule.clone(), &r.block.body);
                g.add_dependency(rule, Node::Object(plan.clone()));
            }
        }
        for s in &c.selections {
            add_body(
                &mut g,
                Node::Object(Address::Selection(s.name.clone())),
                &s.block.body,
            );
        }
        for d in &c.directories {
            add_body(
                &mut g,
                Node::Object(Address::Directory(d.name.clone())),
                &d.block.body,
            );
        }
        for h in &c.legal_holds {
            add_body(
                &mut g,
                Node::Object(Address::LegalHold(h.name.clone())),
                &h.block.body,
            );
        }
        for t in &c.restore_tests {
            add_body(
                &mut g,
                Node::Object(Address::RestoreTest(t.name.clone())),
                &t.block.body,
            );
        }
        for f in &c.frameworks {
            add_body(
                &mut g,
                Node::Object(Address::Framework(f.name.clone())),
                &f.block.body,
            );
        }
        for n in &c.notifications {
            add_body(
                &mut g,
                Node::Object(Address::Notification(n.name.clone())),
                &n.block.body,
            );
        }
        g
    }

    /// Reports every dependency cycle; returns the members, which are not evaluated.
    pub(super) fn report_cycles(
        &mut self,
        g: &DependencyGraph<Node>,
        c: &Collected<'_>,
    ) -> BTreeSet<Node> {
        let mut spans: BTreeMap<Node, Span> = BTreeMap::new();
        for l in &c.locals {
            spans.insert(
                Node::Local(l.attr.key.value().as_str().to_string()),
                l.span.clone(),
            );
        }
        let objects = c
            .vaults
            .iter()
            .map(|d| (Address::Vault(d.name.clone()), d))
            .chain(
                c.plans
                    .iter()
                    .map(|p| (Address::Plan(p.decl.name.clone()), &p.decl)),
            )
            .chain(c.plans.iter().flat_map(|p| {
                p.rules.iter().map(|r| {
                    (
                        Address::Rule {
                            plan: p.decl.name.clone(),
                            rule: r.name.clone(),
                        },
                        r,
                    )
                })
            }))
            .chain(
                c.selections
                    .iter()
                    .map(|d| (Address::Selection(d.name.clone()), d)),
            )
            .chain(
                c.directories
                    .iter()
                    .map(|d| (Address::Directory(d.name.clone()), d)),
            );
        for (addr, d) in objects {
            spans.insert(Node::Object(addr), d.name_span.clone());
        }
        let mut poisoned = BTreeSet::new();
        for cycle in g.cycles() {
            let mut path: Vec<String> = cycle.iter().map(ToString::to_string).collect();
            path.push(cycle[0].to_string());
            let first = &cycle[0];
            let mut d = Diagnostic::error(
                "coffer::dependency_cycle",
                format!("dependency cycle: {}", path.join(" → ")),
            );
            if let Some(s) = spans.get(first) {
                d = d.at(s.clone(), format!("{first} is part of the cycle"));
            }
            for member in cycle.iter().skip(1) {
                if let Some(s) = spans.get(member) {
                    d = d.with_related(s.clone(), format!("{member} is part of the cycle"));
                }
            }
            d = d.with_help("break the cycle by removing one of these references");
            self.push(d);
            poisoned.extend(cycle);
        }
        poisoned
    }
}

/// Every expression in a body, nested blocks included.
fn body_expressions(body: &Body) -> Vec<&Expression> {
    let mut out = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.push(&a.value),
            Structure::Block(b) => out.extend(body_expressions(&b.body)),
        }
    }
    out
}

/// For each object, the objects it depends on, following references through locals.
pub(super) fn object_dependencies(
    graph: &DependencyGraph<Node>,
) -> BTreeMap<Address, Vec<Address>> {
    fn resolve(
        graph: &DependencyGraph<Node>,
        node: &Node,
        out: &mut BTreeSet<Address>,
        seen: &mut BTreeSet<Node>,
    ) {
        for dep in graph.dependencies_of(node) {
            if !seen.insert(dep.clone()) {
                continue;
            }
            match &dep {
                Node::Object(a) => {
                    out.insert(a.clone());
                }
                Node::Local(_) => resolve(graph, &dep, out, seen),
                Node::Variable(_) => {}
            }
        }
    }
    let mut result = BTreeMap::new();
    let objects: Vec<Address> = graph
        .order()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            if let Node::Object(a) = n {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    for a in objects {
        let mut deps = BTreeSet::new();
        let mut seen = BTreeSet::new();
        resolve(graph, &Node::Object(a.clone()), &mut deps, &mut seen);
        deps.remove(&a);
        result.insert(a, deps.into_iter().collect());
    }
    result
}
