"use client";

import { useRouter } from "next/navigation";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

/** One colour per severity, the same everywhere (badges use the same scale). */
export const severityColors: Record<string, string> = {
  critical: "#b91c1c",
  high: "#ea580c",
  medium: "#d97706",
  low: "#2c55d8",
  info: "#64748b",
  none: "#10b981",
};

export const axis = { fontSize: 12, stroke: "#64748b" };

/** A chart with its accessible summary; `className` sets the height (charts need a sized box). */
export function ChartFrame({
  testId,
  label,
  className = "h-64",
  style,
  children,
}: {
  testId: string;
  label: string;
  className?: string;
  style?: React.CSSProperties;
  children: React.ReactElement;
}) {
  return (
    <div className={className} style={style} data-testid={testId} role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height="100%">
        {children}
      </ResponsiveContainer>
    </div>
  );
}

/** Bars that open the inventory filtered on what was clicked. */
export function useDrillDown() {
  const router = useRouter();
  return (href: string | undefined) => {
    if (href) router.push(href);
  };
}

export function SeverityChart({ data }: { data: { severity: string; count: number; href?: string }[] }) {
  const open = useDrillDown();
  return (
    <ChartFrame testId="severity-chart" label={`Identities by risk: ${data.map((d) => `${d.count} ${d.severity}`).join(", ")}`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="severity" {...axis} interval={0} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar dataKey="count" name="Identities" radius={[4, 4, 0, 0]} isAnimationActive={false} onClick={(entry) => open((entry.payload as { href?: string }).href)} className="cursor-pointer">
          {data.map((d) => (
            <Cell key={d.severity} fill={severityColors[d.severity] ?? "#64748b"} />
          ))}
        </Bar>
      </BarChart>
    </ChartFrame>
  );
}

export function CredentialAgeChart({ data }: { data: { label: string; count: number; href?: string }[] }) {
  const open = useDrillDown();
  return (
    <ChartFrame testId="credential-age-chart" label={`Credential age: ${data.map((d) => `${d.count} ${d.label}`).join(", ")}`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" {...axis} interval={0} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar dataKey="count" name="Identities" fill="#3b6cf6" radius={[4, 4, 0, 0]} isAnimationActive={false} onClick={(entry) => open((entry.payload as { href?: string }).href)} className="cursor-pointer">
          {data.map((d, i) => (
            // Older is worse: the bars darken with age; "no credential" stays neutral.
            <Cell key={d.label} fill={["#93c5fd", "#3b82f6", "#f59e0b", "#b91c1c", "#94a3b8"][i] ?? "#3b6cf6"} />
          ))}
        </Bar>
      </BarChart>
    </ChartFrame>
  );
}

export function OwnershipChart({ owned, unowned, hrefs }: { owned: number; unowned: number; hrefs?: { unowned: string } }) {
  const open = useDrillDown();
  const data = [
    { name: "Owned", value: owned, fill: "#10b981" },
    { name: "Unowned", value: unowned, fill: "#f59e0b", href: hrefs?.unowned },
  ];
  return (
    <ChartFrame testId="ownership-chart" label={`${owned} owned, ${unowned} unowned`}>
      <PieChart>
        <Pie data={data} dataKey="value" nameKey="name" innerRadius="55%" outerRadius="80%" isAnimationActive={false} onClick={(entry) => open((entry.payload as { href?: string }).href)}>
          {data.map((d) => (
            <Cell key={d.name} fill={d.fill} className={d.href ? "cursor-pointer" : undefined} />
          ))}
        </Pie>
        <Tooltip />
        <Legend verticalAlign="bottom" height={24} />
      </PieChart>
    </ChartFrame>
  );
}

export function OwaspChart({ data }: { data: ({ category: string } & Record<"critical" | "high" | "medium" | "low" | "info", number>)[] }) {
  return (
    <ChartFrame testId="owasp-chart" label={`Open findings by OWASP NHI category: ${data.map((d) => d.category).join(", ")}`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="category" {...axis} interval={0} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Legend height={24} />
        {(["critical", "high", "medium", "low", "info"] as const).map((s) => (
          <Bar key={s} dataKey={s} stackId="severity" name={s} fill={severityColors[s]} isAnimationActive={false} />
        ))}
      </BarChart>
    </ChartFrame>
  );
}

export function SyncTrendChart({ data }: { data: { label: string; identities: number; openFindings: number }[] }) {
  return (
    <ChartFrame testId="trend-chart" label={`Identities and open findings over the last ${data.length} syncs`}>
      <LineChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" {...axis} minTickGap={24} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip />
        <Legend height={24} />
        <Line type="monotone" dataKey="identities" name="Identities" stroke="#3b6cf6" strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line type="monotone" dataKey="openFindings" name="Open findings" stroke="#b91c1c" strokeWidth={2} dot={false} isAnimationActive={false} />
      </LineChart>
    </ChartFrame>
  );
}

export function SyncRunsChart({ data }: { data: { label: string; seconds: number | null; objects: number; failed: boolean }[] }) {
  return (
    <ChartFrame testId="sync-runs-chart" label={`Durations of the last ${data.length} syncs`}>
      <ComposedChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" {...axis} minTickGap={16} />
        <YAxis yAxisId="s" allowDecimals {...axis} unit=" s" />
        <YAxis yAxisId="n" orientation="right" allowDecimals={false} {...axis} />
        <Tooltip />
        <Legend height={24} />
        <Bar yAxisId="s" dataKey="seconds" name="Duration (s)" isAnimationActive={false}>
          {data.map((d, i) => (
            <Cell key={i} fill={d.failed ? "#b91c1c" : "#3b6cf6"} />
          ))}
        </Bar>
        <Line yAxisId="n" dataKey="objects" name="Objects" stroke="#10b981" isAnimationActive={false} />
      </ComposedChart>
    </ChartFrame>
  );
}
