"use client";

import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, axis, useDrillDown } from "@/components/charts/inventory-charts";

// Allowed and refused requests keep the same two colours on every usage chart.
const ALLOWED = "#3b6cf6";
const DENIED = "#b91c1c";

export interface DailyRequests {
  /** YYYY-MM-DD (UTC). */
  day: string;
  allowed: number;
  denied: number;
}

/** Requests per day over the window, allowed and refused stacked. Days without requests are zero bars. */
export function RequestsPerDayChart({ data }: { data: DailyRequests[] }) {
  const allowed = data.reduce((n, d) => n + d.allowed, 0);
  const denied = data.reduce((n, d) => n + d.denied, 0);
  return (
    <ChartFrame testId="requests-per-day-chart" label={`Requests per day over ${data.length} days: ${allowed} allowed, ${denied} denied`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="day" {...axis} tickFormatter={(day: string) => day.slice(5)} minTickGap={16} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Legend height={24} />
        <Bar dataKey="allowed" stackId="requests" name="Allowed" fill={ALLOWED} isAnimationActive={false} />
        <Bar dataKey="denied" stackId="requests" name="Denied" fill={DENIED} radius={[3, 3, 0, 0]} isAnimationActive={false} />
      </BarChart>
    </ChartFrame>
  );
}

export interface RankedRequests {
  name: string;
  allowed: number;
  denied: number;
}

/** Horizontal bars, most requested first (top verbs, top resources); the height follows the number of rows. */
export function RankedRequestsChart({ testId, title, data }: { testId: string; title: string; data: RankedRequests[] }) {
  const width = Math.min(240, Math.max(60, ...data.map((d) => d.name.length * 7.5 + 12)));
  return (
    <ChartFrame
      testId={testId}
      label={`${title}: ${data.map((d) => `${d.name} ${d.allowed + d.denied}`).join(", ")}`}
      className=""
      style={{ height: 48 + data.length * 28 }}
    >
      <BarChart data={data} layout="vertical" margin={{ left: 0, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" allowDecimals={false} {...axis} />
        <YAxis type="category" dataKey="name" width={width} interval={0} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar dataKey="allowed" stackId="requests" name="Allowed" fill={ALLOWED} isAnimationActive={false} />
        <Bar dataKey="denied" stackId="requests" name="Denied" fill={DENIED} radius={[0, 3, 3, 0]} isAnimationActive={false} />
      </BarChart>
    </ChartFrame>
  );
}

/** Unused identities per owning team (or "unowned"); a bar opens the inventory filtered on that team. */
export function UnusedByOwnerChart({ data }: { data: { owner: string; count: number; href?: string }[] }) {
  const open = useDrillDown();
  return (
    <ChartFrame testId="unused-by-owner-chart" label={`Unused identities by owner: ${data.map((d) => `${d.owner} ${d.count}`).join(", ")}`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="owner" {...axis} interval={0} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar
          dataKey="count"
          name="Unused identities"
          fill="#d97706"
          maxBarSize={64}
          radius={[4, 4, 0, 0]}
          isAnimationActive={false}
          onClick={(entry) => open((entry.payload as { href?: string }).href)}
          className="cursor-pointer"
        />
      </BarChart>
    </ChartFrame>
  );
}
