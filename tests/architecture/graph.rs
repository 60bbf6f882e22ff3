//! Cycles in the file graph: which files form them, and one path to show for each.

use std::collections::{BTreeMap, VecDeque};

/// File → file it imports → the first line that does so.
pub type Graph = BTreeMap<String, BTreeMap<String, usize>>;

/// The strongly connected components with more than one file (Tarjan), each sorted.
pub fn cyclic_components(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(w: &mut Walk<'g>, v: &'g str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for next in w.graph.get(v).into_iter().flat_map(|e| e.keys()) {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                w.low.insert(v, w.low[v].min(w.low[next]));
            } else if w.stack.contains(&next) {
                w.low.insert(v, w.low[v].min(w.index[next]));
            }
        }
        if w.low[v] == w.index[v] {
            let at = w
                .stack
                .iter()
                .rposition(|&f| f == v)
                .expect("v is on the stack");
            let mut component: Vec<String> = w.stack.drain(at..).map(String::from).collect();
            if component.len() > 1 {
                component.sort();
                w.out.push(component);
            }
        }
    }
    let mut w = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v.as_str()) {
            visit(&mut w, v);
        }
    }
    w.out.sort();
    w.out
}

/// A shortest cycle through a file of the component that is in no known cycle (the
/// file that made it new), with the line of each edge.
pub fn describe_cycle(graph: &Graph, component: &[String], known: impl Fn(&str) -> bool) -> String {
    let start = component
        .iter()
        .find(|f| !known(f))
        .unwrap_or(&component[0]);
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for next in graph[v].keys().filter(|n| component.contains(n)) {
            if next == start {
                let mut path = vec![format!("{v}:{} → {start}", graph[v][start])];
                let mut at = v;
                while at != start {
                    let prev = came_from[at];
                    path.push(format!("{prev}:{} → ", graph[prev][at]));
                    at = prev;
                }
                path.reverse();
                return path.concat();
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, v);
                queue.push_back(next);
            }
        }
    }
    unreachable!("a strongly connected component has a cycle through each file")
}
