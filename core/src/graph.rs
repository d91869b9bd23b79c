//! Dependency graphs (petgraph): cycle detection that names every member, and a
//! deterministic dependency order (dependencies first, ties broken by the node order).

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A directed graph whose edges point from a dependency to the nodes that depend on it.
#[derive(Debug, Clone)]
pub struct DependencyGraph<N: Ord + Clone + std::hash::Hash> {
    graph: DiGraph<N, ()>,
    index: HashMap<N, NodeIndex>,
    /// Edges already present, so adding one is O(1) even for nodes with many neighbours.
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl<N: Ord + Clone + std::hash::Hash> Default for DependencyGraph<N> {
    fn default() -> Self {
        DependencyGraph {
            graph: DiGraph::new(),
            index: HashMap::new(),
            edges: HashSet::new(),
        }
    }
}

impl<N: Ord + Clone + std::hash::Hash> DependencyGraph<N> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, n: N) -> NodeIndex {
        if let Some(&i) = self.index.get(&n) {
            return i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    pub fn contains(&self, n: &N) -> bool {
        self.index.contains_key(n)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Records that `dependent` needs `dependency` first. Both are added if missing.
    pub fn add_dependency(&mut self, dependent: N, dependency: N) {
        let a = self.add_node(dependency);
        let b = self.add_node(dependent);
        if self.edges.insert((a, b)) {
            self.graph.add_edge(a, b, ());
        }
    }

    /// The direct dependencies of `n`, sorted.
    pub fn dependencies_of(&self, n: &N) -> Vec<N> {
        let Some(&i) = self.index.get(n) else {
            return Vec::new();
        };
        let mut v: Vec<N> = self
            .graph
            .neighbors_directed(i, Direction::Incoming)
            .map(|j| self.graph[j].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every cycle, each as the path of its members starting from the smallest one
    /// (`[a, b, c]` means a → b → c → a). Cycles are sorted, so output is stable.
    pub fn cycles(&self) -> Vec<Vec<N>> {
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let is_cycle = scc.len() > 1 || self.graph.find_edge(scc[0], scc[0]).is_some();
            if !is_cycle {
                continue;
            }
            let Some(&start) = members
                .iter()
                .min_by(|a, b| self.graph[**a].cmp(&self.graph[**b]))
            else {
                continue;
            };
            out.push(self.walk_cycle(start, &members));
        }
        out.sort();
        out
    }

    /// A path inside one strongly connected component from `start` back to it, following the
    /// "depends on" direction and preferring the smallest next node.
    fn walk_cycle(&self, start: NodeIndex, members: &BTreeSet<NodeIndex>) -> Vec<N> {
        // breadth-first search for the shortest way back to `start`
        let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = None;
        while let Some(cur) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(cur, Direction::Incoming)
                .filter(|j| members.contains(j))
                .collect();
            next.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
            for j in next {
                if j == start {
                    found = Some(cur);
                    break;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(j) {
                    e.insert(cur);
                    queue.push_back(j);
                }
            }
            if found.is_some() {
                break;
            }
        }
        let mut path = Vec::new();
        let mut cur = found.unwrap_or(start);
        while cur != start {
            path.push(self.graph[cur].clone());
            cur = prev.get(&cur).copied().unwrap_or(start);
        }
        path.push(self.graph[start].clone());
        path.reverse();
        path
    }

    /// All nodes with every dependency before its dependents; among nodes that are ready at
    /// the same time the smallest comes first. `Err` holds the cycles if there are any.
    pub fn order(&self) -> Result<Vec<N>, Vec<Vec<N>>> {
        let mut indegree: Vec<usize> = self
            .graph
            .node_indices()
            .map(|i| {
                self.graph
                    .neighbors_directed(i, Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BTreeSet<(N, NodeIndex)> = self
            .graph
            .node_indices()
            .filter(|i| indegree[i.index()] == 0)
            .map(|i| (self.graph[i].clone(), i))
            .collect();
        let mut out = Vec::with_capacity(self.graph.node_count());
        while let Some((n, i)) = ready.pop_first() {
            out.push(n);
            for j in self.graph.neighbors_directed(i, Direction::Outgoing) {
                let d = &mut indegree[j.index()];
                *d -= 1;
                if *d == 0 {
                    ready.insert((self.graph[j].clone(), j));
                }
            }
        }
        if out.len() == self.graph.node_count() {
            Ok(out)
        } else {
            Err(self.cycles())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_dependencies_first_and_breaks_ties_by_name() {
        let mut g = DependencyGraph::new();
        g.add_dependency("rule", "vault");
        g.add_dependency("rule", "plan");
        g.add_dependency("selection", "plan");
        g.add_node("a-standalone");
        assert_eq!(
            g.order().unwrap(),
            vec!["a-standalone", "plan", "selection", "vault", "rule"]
        );
    }

    #[test]
    fn reports_each_cycle_with_its_members_in_order() {
        let mut g = DependencyGraph::new();
        g.add_dependency("a", "b");
        g.add_dependency("b", "c");
        g.add_dependency("c", "a");
        g.add_dependency("x", "x");
        g.add_dependency("d", "a");
        assert_eq!(g.cycles(), vec![vec!["a", "b", "c"], vec!["x"]]);
        assert!(g.order().is_err());
    }

    #[test]
    fn direct_dependencies() {
        let mut g = DependencyGraph::new();
        g.add_dependency("r", "v");
        g.add_dependency("r", "p");
        assert_eq!(g.dependencies_of(&"r"), vec!["p", "v"]);
        assert!(g.dependencies_of(&"zz").is_empty());
    }
}
