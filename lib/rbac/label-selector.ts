// metav1.LabelSelector semantics (LabelSelectorAsSelector + labels.Requirement.Matches).
import type { LabelSelector } from "./types";

/** Why Kubernetes would refuse to turn this selector into a labels.Selector, or null if it is valid. */
export function labelSelectorError(selector: LabelSelector): string | null {
  for (const requirement of selector.matchExpressions ?? []) {
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0)
          return `values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`;
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0)
          return `values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`;
        break;
      default:
        return `"${String(requirement.operator)}" is not a valid label selector operator`;
    }
  }
  return null;
}

/** An empty selector matches everything; an invalid one matches nothing. */
export function labelSelectorMatches(
  selector: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  if (labelSelectorError(selector) !== null) return false;
  const present = labels ?? {};
  const has = (key: string) => Object.prototype.hasOwnProperty.call(present, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || present[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const matches =
      operator === "In"
        ? has(key) && values.includes(present[key])
        : operator === "NotIn"
          ? !has(key) || !values.includes(present[key])
          : operator === "Exists"
            ? has(key)
            : !has(key);
    if (!matches) return false;
  }
  return true;
}
