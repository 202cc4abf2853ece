//! Comparing the hosts' renderings (the snapshots' normalised form): hosts whose outcomes render
//! the same form a group; the largest group (on a tie, the one holding the reference host) is
//! the one every other group is diffed against.

/// Hosts that agree, and what they agree on.
pub struct Group {
    pub hosts: Vec<String>,
    pub rendering: String,
}

pub struct Comparison {
    /// In the order of their first host.
    pub groups: Vec<Group>,
    /// The group the others are diffed against.
    pub reference: usize,
}

/// Groups `rendered` (host, rendering) pairs; `reference_host` breaks a tie between the largest
/// groups.
pub fn compare(rendered: &[(String, String)], reference_host: Option<&str>) -> Comparison {
    let mut groups: Vec<Group> = Vec::new();
    for (host, rendering) in rendered {
        match groups
            .iter_mut()
            .find(|group| group.rendering == *rendering)
        {
            Some(group) => group.hosts.push(host.clone()),
            None => groups.push(Group {
                hosts: vec![host.clone()],
                rendering: rendering.clone(),
            }),
        }
    }
    let holds_reference =
        |group: &Group| reference_host.is_some_and(|host| group.hosts.iter().any(|h| h == host));
    let reference = (0..groups.len())
        .max_by_key(|&at| {
            let group = &groups[at];
            (
                group.hosts.len(),
                holds_reference(group),
                std::cmp::Reverse(at),
            )
        })
        .unwrap_or(0);
    Comparison { groups, reference }
}

impl Comparison {
    /// Every host asked answered alike (or none was asked).
    pub fn agree(&self) -> bool {
        self.groups.len() <= 1
    }

    /// The hosts outside the reference group, in order.
    pub fn differing(&self) -> Vec<&str> {
        self.others()
            .flat_map(|(_, group)| group.hosts.iter().map(String::as_str))
            .collect()
    }

    /// Each group but the reference, with its index.
    pub fn others(&self) -> impl Iterator<Item = (usize, &Group)> {
        let reference = self.reference;
        self.groups
            .iter()
            .enumerate()
            .filter(move |(at, _)| *at != reference)
    }

    /// A unified diff from the reference group's rendering to `group`'s, headed by their hosts.
    pub fn diff(&self, group: &Group) -> String {
        let from = &self.groups[self.reference];
        // Both end in a newline, so that the diff has no "no newline at end of file" lines.
        let (old, new) = (
            format!("{}\n", from.rendering),
            format!("{}\n", group.rendering),
        );
        similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&from.hosts.join(", "), &group.hosts.join(", "))
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(h, r)| (h.to_string(), r.to_string()))
            .collect()
    }

    #[test]
    fn the_largest_group_is_the_reference_and_a_tie_goes_to_the_reference_host() {
        let three = rendered(&[("a", "x"), ("b", "y"), ("c", "y")]);
        let comparison = compare(&three, Some("a"));
        assert_eq!(comparison.groups.len(), 2);
        assert_eq!(comparison.groups[comparison.reference].hosts, ["b", "c"]);
        assert_eq!(comparison.differing(), ["a"]);
        let tie = rendered(&[("a", "x"), ("b", "y")]);
        assert_eq!(compare(&tie, Some("b")).differing(), ["a"]);
        assert_eq!(compare(&tie, None).differing(), ["b"]);
        assert!(compare(&rendered(&[("a", "x"), ("b", "x")]), None).agree());
    }

    #[test]
    fn the_diff_is_unified_and_headed_by_the_hosts() {
        let pairs = rendered(&[("a", "same\nold"), ("b", "same\nold"), ("c", "same\nnew")]);
        let comparison = compare(&pairs, None);
        let (_, other) = comparison.others().next().unwrap();
        let diff = comparison.diff(other);
        assert!(
            diff.starts_with("--- a, b\n+++ c\n@@ -1,2 +1,2 @@\n same\n-old\n+new\n"),
            "{diff}"
        );
        assert!(!diff.contains("No newline"), "{diff}");
    }
}
